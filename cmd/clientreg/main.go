// Command clientreg runs the client registry: the API server and the
// operator commands around it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/migrations"
)

const usage = `usage: clientreg <command> [flags]

commands:
  serve [--addr :8080]                      run the API, the console and the projectors
  migrate                                   apply database migrations
  createdb                                  create the database DATABASE_URL names, if missing
  bootstrap --token-file PATH [--tenant N]  migrate; create a first tenant if there is none
  tenant create NAME                        create a tenant; prints its admin token last
  token create --tenant NAME --role ROLE    create a token (admin, editor, viewer, app)
  user create --tenant NAME --email EMAIL --role ROLE
                                            add a console user (admin, editor, viewer); prints a one-time password
  import FILE --tenant NAME [--dry-run] [--mode create_only|create_and_update]
         [--list NAME]... [--lang fr] [--layout clients|contacts]
         [--format F] [--encoding E] [--delimiter D] [--sheet S]
                                            analyse a file and import its valid rows
  audit client ID|EMAIL --tenant NAME [--json]          a client's timeline
  audit import LABEL|ID --tenant NAME [--json]          an import's timeline
  audit events --tenant NAME [--since T] [--type T] [--actor A] [--json]
                                            the tenant's events (JSON lines with --json)
  replay [--projection NAME|all]            rebuild read models from the log, then swap them in
  verify [--tenant NAME]                    compare every read model with the log; exit 1 on a difference

environment:
  DATABASE_URL           PostgreSQL URL of the registry's database
  CLIENTREG_MASTER_KEY   base64 of 32 random bytes; wraps the per-client data keys (serve)
  NATS_URL               when set, serve forwards every event to NATS JetStream (stream CLIENTREG_EVENTS,
                         subjects clientreg.events.<tenant id>.<event type>), e.g. nats://127.0.0.1:4222
  LOG_LEVEL              debug, info (default), warn, error
  CLIENTREG_SYNC_INTERVAL  time between scheduled syncs of a connection (default 15m)
  CLIENTREG_MAX_ANALYSES  file analyses serve runs at once (default 3); one more answers 429
  CLIENTREG_SOURCE_HOSTS_ALLOW_HTTP  hosts (comma-separated) a connection may reach over http and on
                         loopback or private addresses; all others: https to public addresses only
  ADMINPULSE_CLIENT_ID, ADMINPULSE_CLIENT_SECRET, ADMINPULSE_AUTH_URL, ADMINPULSE_TOKEN_URL,
  ADMINPULSE_REDIRECT_URL (…/v1/connections/oauth/callback), ADMINPULSE_API_URL, ADMINPULSE_SCOPES
                         the deployment's OAuth2 client at AdminPulse; without a client id AdminPulse cannot be connected
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clientreg:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest)
	case "migrate":
		return withPool(ctx, func(pool *pgxpool.Pool) error {
			if err := migrations.Apply(ctx, pool); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "migrations applied")
			return nil
		})
	case "createdb":
		return createDatabase(ctx, stdout)
	case "bootstrap":
		return bootstrap(ctx, rest, stdout)
	case "tenant":
		return tenantCommand(ctx, rest, stdout)
	case "token":
		return tokenCommand(ctx, rest, stdout)
	case "user":
		return userCommand(ctx, rest, stdout)
	case "import":
		return importCommand(ctx, rest, stdout)
	case "audit":
		return auditCommand(ctx, rest, stdout)
	case "replay":
		return replayCommand(ctx, rest, stdout)
	case "verify":
		return verifyCommand(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseWithOperand parses flags around one operand (a file, an id), which
// may come before the flags, as people type it, or after them.
func parseWithOperand(fs *flag.FlagSet, args []string) (string, error) {
	var operand string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		operand, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if operand == "" && fs.NArg() > 0 {
		operand = fs.Arg(0)
	}
	return operand, nil
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// makeRunDir is where `make run` keeps the master key it generated and the
// database it used, for the CLI to find when nothing else is set.
const makeRunDir = ".data"

func databaseURL() (string, error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		return url, nil
	}
	saved, err := os.ReadFile(filepath.Join(makeRunDir, "database-url"))
	if err != nil {
		return "", errors.New("DATABASE_URL is not set (make run sets it up for you, and keeps it in .data/database-url)")
	}
	fmt.Fprintln(os.Stderr, "DATABASE_URL is not set: using the database of make run (.data/database-url)")
	return strings.TrimSpace(string(saved)), nil
}

// masterKey reads CLIENTREG_MASTER_KEY, else the key `make run` generated.
func masterKey() ([]byte, error) {
	raw := os.Getenv("CLIENTREG_MASTER_KEY")
	if raw == "" {
		saved, err := os.ReadFile(filepath.Join(makeRunDir, "master.key"))
		if err != nil {
			return nil, errors.New("CLIENTREG_MASTER_KEY is not set and there is no .data/master.key: set the key this database was first used with (after make run it is in .data/master.key). Only for a new, empty database, generate one with `head -c 32 /dev/urandom | base64` and keep it safe")
		}
		fmt.Fprintln(os.Stderr, "CLIENTREG_MASTER_KEY is not set: using make run's key (.data/master.key)")
		raw = string(saved)
	}
	key, err := eventlog.ParseMasterKey(raw)
	if err != nil {
		return nil, fmt.Errorf("CLIENTREG_MASTER_KEY: %w", err)
	}
	return key, nil
}

func withPool(ctx context.Context, fn func(*pgxpool.Pool) error) error {
	url, err := databaseURL()
	if err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	cfg.AfterConnect = postgres.AfterConnect
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	return fn(pool)
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := openService(ctx, os.Getenv("NATS_URL"))
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	slog.Info("serving", "addr", ln.Addr().String())
	fmt.Fprintf(os.Stdout, "Console: %s\n", consoleURL(ln.Addr()))
	return svc.Serve(ctx, ln)
}

// openService connects to DATABASE_URL with CLIENTREG_MASTER_KEY. A
// natsURL makes its workers forward events to NATS (serve only).
func openService(ctx context.Context, natsURL string) (*service.Service, error) {
	url, err := databaseURL()
	if err != nil {
		return nil, err
	}
	key, err := masterKey()
	if err != nil {
		return nil, err
	}
	sources, err := sourcesConfig()
	if err != nil {
		return nil, err
	}
	maxAnalyses := 0
	if raw := strings.TrimSpace(os.Getenv("CLIENTREG_MAX_ANALYSES")); raw != "" {
		if maxAnalyses, err = strconv.Atoi(raw); err != nil || maxAnalyses < 1 {
			return nil, fmt.Errorf("CLIENTREG_MAX_ANALYSES must be a number of analyses (1 or more), not %q", raw)
		}
	}
	svc, err := service.New(ctx, service.Config{DatabaseURL: url, MasterKey: key, Logger: slog.Default(), Sources: sources,
		NATSURL: natsURL, MaxAnalyses: maxAnalyses})
	if errors.Is(err, eventlog.ErrWrongMasterKey) {
		return nil, fmt.Errorf("%w: nothing was written. Set CLIENTREG_MASTER_KEY to that key (after make run it is in .data/master.key); a new key cannot read what the old one sealed", err)
	}
	return svc, err
}

// createDatabase creates DATABASE_URL's database through the server's
// maintenance database, so `make run` needs no psql.
func createDatabase(ctx context.Context, stdout io.Writer) error {
	url, err := databaseURL()
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "created database %s\n", name)
	return nil
}

// bootstrap prepares a fresh installation: migrations, then a first tenant
// whose admin token is printed and kept in the token file, and its first
// console admin with a one-time password.
func bootstrap(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	tokenFile := fs.String("token-file", ".data/admin-token", "where the first admin token is kept")
	tenantName := fs.String("tenant", "default", "name of the first tenant")
	adminEmail := fs.String("admin-email", "admin@example.com", "email of the first console admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withPool(ctx, func(pool *pgxpool.Pool) error {
		if err := migrations.Apply(ctx, pool); err != nil {
			return err
		}
		tenants := postgres.NewTenants(pool)
		n, err := tenants.Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			if _, err := os.Stat(*tokenFile); err == nil {
				fmt.Fprintf(stdout, "A tenant exists already; the first admin token is in %s\n", *tokenFile)
			} else {
				fmt.Fprintln(stdout, "A tenant exists already; create a token with: clientreg token create --tenant NAME --role admin")
			}
			tenantID, err := tenants.ID(ctx, *tenantName)
			if errors.Is(err, postgres.ErrTenantNotFound) {
				fmt.Fprintln(stdout, "Add console users with: clientreg user create --tenant NAME --email EMAIL --role admin")
				return nil
			}
			if err != nil {
				return err
			}
			return firstAdmin(ctx, postgres.NewUsers(pool), tenantID, *adminEmail, stdout)
		}
		tenantID, token, err := tenants.Create(ctx, *tenantName)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*tokenFile, []byte(token+"\n"), 0o600); err != nil {
			return fmt.Errorf("keep the token in %s: %w", *tokenFile, err)
		}
		fmt.Fprintf(stdout, "Created tenant %q. Its admin token (also in %s):\n%s\n", *tenantName, *tokenFile, token)
		return firstAdmin(ctx, postgres.NewUsers(pool), tenantID, *adminEmail, stdout)
	})
}

// firstAdmin makes sure the tenant has a console admin who can sign in. A
// one-time password is shown only once and stored hashed, so until the
// admin has chosen their own, each bootstrap issues a fresh one.
func firstAdmin(ctx context.Context, users *postgres.Users, tenantID uuid.UUID, email string, stdout io.Writer) error {
	admin, found, err := users.FirstAdmin(ctx, tenantID)
	if err != nil {
		return err
	}
	var password string
	switch {
	case !found:
		if admin, password, err = users.Create(ctx, tenantID, email, domain.RoleAdmin); err != nil {
			return fmt.Errorf("create the first console admin: %w", err)
		}
	case admin.MustSetPassword:
		if password, err = users.ResetPassword(ctx, tenantID, admin.ID); err != nil {
			return err
		}
	default:
		fmt.Fprintf(stdout, "Console: sign in as %s\n", admin.Email)
		return nil
	}
	fmt.Fprintf(stdout, "Console admin: %s\nOne-time password: %s\n(you choose your own at first sign-in)\n", admin.Email, password)
	return nil
}

func tenantCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "create" {
		return errors.New("usage: clientreg tenant create NAME")
	}
	return withPool(ctx, func(pool *pgxpool.Pool) error {
		if err := migrations.Apply(ctx, pool); err != nil {
			return err
		}
		id, token, err := postgres.NewTenants(pool).Create(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s created (id %s); admin token:\n%s\n", args[1], id, token)
		return nil
	})
}

func tokenCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) < 1 || args[0] != "create" {
		return errors.New("usage: clientreg token create --tenant NAME --role admin|editor|viewer|app")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant name")
	role := fs.String("role", domain.RoleViewer, "admin, editor, viewer or app")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return errors.New("--tenant is required")
	}
	return withPool(ctx, func(pool *pgxpool.Pool) error {
		token, err := postgres.NewTenants(pool).CreateToken(ctx, *tenant, *role)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s token for tenant %s:\n%s\n", *role, *tenant, token)
		return nil
	})
}

// consoleURL is where a browser on this machine finds the console.
func consoleURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func userCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) < 1 || args[0] != "create" {
		return errors.New("usage: clientreg user create --tenant NAME --email EMAIL --role admin|editor|viewer")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant name")
	email := fs.String("email", "", "the person's email address; they sign in with it")
	role := fs.String("role", domain.RoleViewer, "admin, editor or viewer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *tenant == "" || *email == "" {
		return errors.New("--tenant and --email are required")
	}
	return withPool(ctx, func(pool *pgxpool.Pool) error {
		if err := migrations.Apply(ctx, pool); err != nil {
			return err
		}
		tenantID, err := postgres.NewTenants(pool).ID(ctx, *tenant)
		if err != nil {
			return err
		}
		u, password, err := postgres.NewUsers(pool).Create(ctx, tenantID, *email, *role)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s user %s added to tenant %s. One-time password (they choose their own at first sign-in):\n%s\n",
			u.Role, u.Email, *tenant, password)
		return nil
	})
}
