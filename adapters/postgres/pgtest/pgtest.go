// Package pgtest gives tests a fresh, fully migrated PostgreSQL database of
// their own, cloned from a template database that is built once per set of
// migrations and shared by every test process on the server.
//
// The server comes from TEST_DATABASE_URL (an admin URL, e.g. the one
// scripts/postgres.sh prints; `make test` sets it), else
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. An unreachable
// server fails the test; it is never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/migrations"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const (
	templatePrefix = "clientreg_tmpl_"
	testDBPrefix   = "clientreg_test_"
	// templateLockID serialises template builds across test processes (advisory
	// locks are per database; every process takes it in the admin database).
	templateLockID = 7_311_420_002
	// PoolMaxConns caps each NewPool pool: many test processes run in
	// parallel against one server with a limited max_connections.
	PoolMaxConns = 8
	// Old templates and leaked test databases are dropped only when older than
	// this, so another checkout with different migrations is not disturbed.
	staleAfter = 6 * time.Hour
	commentTag = "clientreg pgtest "
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL is the URL of the admin database tests create databases through.
func AdminURL() string {
	if u := strings.TrimSpace(os.Getenv("TEST_DATABASE_URL")); u != "" {
		return u
	}
	return DefaultAdminURL
}

// NewPool creates a fresh, fully migrated database for this test and returns
// a pool (at most PoolMaxConns connections) to it. Cleanup closes the pool and
// drops the database.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewDatabaseURL(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("pgtest: parse database URL: %v", err)
	}
	cfg.MaxConns = PoolMaxConns
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		t.Fatalf("pgtest: ping test database: %v", err)
	}
	// Registered after NewDatabaseURL's cleanup, so it runs before the drop.
	t.Cleanup(pool.Close)
	return pool
}

// NewDatabaseURL creates a fresh, fully migrated database for this test and
// returns its URL. Cleanup drops the database (forcibly closing any
// connections still open to it).
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conn := connectAdmin(ctx, t, admin)
	defer conn.Close(context.Background())

	tmpl, err := ensureTemplate(admin)
	if err != nil {
		t.Fatalf("pgtest: build template database: %v", err)
	}

	name := testDBPrefix + randomHex(8)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: drop test database %s: connect: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	// Timestamp it so a later run can drop it if this process dies first.
	_, _ = conn.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS "+quoteLiteral(commentTag+time.Now().UTC().Format(time.RFC3339)))

	u, err := WithDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

func connectAdmin(ctx context.Context, t testing.TB, admin string) *pgx.Conn {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin)
	if err != nil {
		t.Fatalf("pgtest: cannot reach the test PostgreSQL server at %s: %v\n"+
			"Run the tests with `make test` (scripts/postgres.sh starts or finds a server and sets TEST_DATABASE_URL), "+
			"or set TEST_DATABASE_URL to an admin URL of a reachable server.", Redact(admin), err)
	}
	return conn
}

// ensureTemplate returns the name of the migrated template database for the
// current migrations, building it (once per process, under an advisory lock
// across processes) if the server does not have it yet.
func ensureTemplate(admin string) (string, error) {
	templateOnce.Do(func() {
		templateName, templateErr = buildTemplate(admin)
	})
	return templateName, templateErr
}

func buildTemplate(admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	sum, err := migrations.Checksum()
	if err != nil {
		return "", fmt.Errorf("migrations checksum: %w", err)
	}
	name := templatePrefix + strings.ToLower(sum)
	building := name + "_building"

	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect admin database %s: %w", Redact(admin), err)
	}
	defer conn.Close(context.Background())

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLockID); err != nil {
		return "", fmt.Errorf("take template lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, templateLockID) //nolint:errcheck // released with the session anyway

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		dropStale(ctx, conn, name)
		return name, nil
	}

	bIdent := pgx.Identifier{building}.Sanitize()
	// A leftover from a build that died half-way.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+bIdent+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop leftover %s: %w", building, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+bIdent); err != nil {
		return "", fmt.Errorf("create %s: %w", building, err)
	}
	bURL, err := WithDatabase(admin, building)
	if err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, bURL)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", building, err)
	}
	err = migrations.Apply(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate %s: %w", building, err)
	}

	// The rename fails while a backend of the closed pool is still exiting.
	rename := "ALTER DATABASE " + bIdent + " RENAME TO " + pgx.Identifier{name}.Sanitize()
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, rename)
		if err == nil {
			break
		}
		if attempt >= 20 {
			return "", fmt.Errorf("rename %s to %s: %w", building, name, err)
		}
		_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, building)
		time.Sleep(100 * time.Millisecond)
	}
	ident := pgx.Identifier{name}.Sanitize()
	// Nobody may connect to the template: a connection would make every
	// CREATE DATABASE ... TEMPLATE fail.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark %s as template: %w", name, err)
	}
	_, _ = conn.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS "+quoteLiteral(commentTag+time.Now().UTC().Format(time.RFC3339)))
	dropStale(ctx, conn, name)
	return name, nil
}

// dropStale drops, best effort, templates for other migration sets and test
// databases leaked by crashed runs, when their pgtest timestamp comment says
// they are older than staleAfter.
func dropStale(ctx context.Context, conn *pgx.Conn, current string) {
	rows, err := conn.Query(ctx, `
		SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database
		WHERE (datname LIKE 'clientreg\_tmpl\_%' OR datname LIKE 'clientreg\_test\_%')
		  AND datname <> $1`, current)
	if err != nil {
		return
	}
	type db struct{ name, comment string }
	var dbs []db
	for rows.Next() {
		var d db
		if rows.Scan(&d.name, &d.comment) == nil {
			dbs = append(dbs, d)
		}
	}
	rows.Close()
	for _, d := range dbs {
		ts, ok := strings.CutPrefix(d.comment, commentTag)
		if !ok {
			continue
		}
		made, err := time.Parse(time.RFC3339, ts)
		if err != nil || time.Since(made) < staleAfter {
			continue
		}
		ident := pgx.Identifier{d.name}.Sanitize()
		if strings.HasPrefix(d.name, templatePrefix) {
			_, _ = conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false")
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	}
}

// WithDatabase returns the admin connection string pointed at database name.
// It accepts URLs (postgres://...) and keyword/value strings (host=... ...).
func WithDatabase(admin, name string) (string, error) {
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			return "", fmt.Errorf("parse admin URL: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Del("dbname")
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// Keyword/value: a later dbname overrides an earlier one.
	return admin + " dbname=" + quoteKV(name), nil
}

func quoteKV(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Redact hides a password in a URL for error messages.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
