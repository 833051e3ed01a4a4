package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
)

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func TestTenantAndTokenCommandsPrintAWorkingTokenLast(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabaseURL(t)
	t.Setenv("DATABASE_URL", url)

	var out bytes.Buffer
	if err := run(ctx, []string{"tenant", "create", "acme"}, &out); err != nil {
		t.Fatal(err)
	}
	admin := lastLine(out.String())
	out.Reset()
	if err := run(ctx, []string{"token", "create", "--tenant", "acme", "--role", "viewer"}, &out); err != nil {
		t.Fatal(err)
	}
	viewer := lastLine(out.String())

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tenants := postgres.NewTenants(pool)
	for token, role := range map[string]string{admin: domain.RoleAdmin, viewer: domain.RoleViewer} {
		p, err := tenants.Authenticate(ctx, token)
		if err != nil || p.Role != role {
			t.Errorf("token %q: %+v, %v; want role %s", token, p, err, role)
		}
	}

	if err := run(ctx, []string{"tenant", "create", "acme"}, &out); err == nil {
		t.Error("a second tenant with the same name was created")
	}
	if err := run(ctx, []string{"token", "create", "--tenant", "nobody"}, &out); err == nil {
		t.Error("a token for a missing tenant was created")
	}
}

func TestBootstrapCreatesTheFirstTenantOnce(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DATABASE_URL", pgtest.NewDatabaseURL(t))
	tokenFile := t.TempDir() + "/admin-token"

	var out bytes.Buffer
	if err := run(ctx, []string{"bootstrap", "--token-file", tokenFile}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\ncrt_") {
		t.Fatalf("bootstrap output %q", out.String())
	}
	firstPassword := valueAfter(t, out.String(), "One-time password: ")
	out.Reset()
	if err := run(ctx, []string{"bootstrap", "--token-file", tokenFile}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), tokenFile) {
		t.Fatalf("second bootstrap should say where the token is: %q", out.String())
	}
	// The first password was shown once and is stored hashed: until the
	// admin chooses their own, bootstrap issues a new one and the old one
	// stops working.
	secondPassword := valueAfter(t, out.String(), "One-time password: ")
	users := postgres.NewUsers(openPool(t))
	if _, err := users.SignIn(ctx, "admin@example.com", firstPassword); err == nil {
		t.Error("the first one-time password still works after a second bootstrap")
	}
	u, err := users.SignIn(ctx, "Admin@Example.com", secondPassword)
	if err != nil || u.Role != domain.RoleAdmin || !u.MustSetPassword {
		t.Fatalf("sign in with the printed password: %+v, %v", u, err)
	}
}

func TestUserCreatePrintsAOneTimePasswordThatSignsIn(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DATABASE_URL", pgtest.NewDatabaseURL(t))
	var out bytes.Buffer
	if err := run(ctx, []string{"tenant", "create", "acme"}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"user", "create", "--tenant", "acme", "--email", "Coach@Acme.be", "--role", "editor"}, &out); err != nil {
		t.Fatal(err)
	}
	users := postgres.NewUsers(openPool(t))
	u, err := users.SignIn(ctx, "coach@acme.be", lastLine(out.String()))
	if err != nil || u.Role != domain.RoleEditor || u.Email != "coach@acme.be" {
		t.Fatalf("sign in: %+v, %v (output %q)", u, err, out.String())
	}
	for _, args := range [][]string{
		{"user", "create", "--tenant", "acme", "--email", "coach@acme.be", "--role", "viewer"}, // taken
		{"user", "create", "--tenant", "acme", "--email", "nobody", "--role", "viewer"},        // not an email
		{"user", "create", "--tenant", "acme", "--email", "x@acme.be", "--role", "app"},        // machines use tokens
		{"user", "create", "--tenant", "nobody", "--email", "y@acme.be", "--role", "viewer"},
	} {
		if err := run(ctx, args, &out); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func valueAfter(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	t.Fatalf("no %q in %q", prefix, out)
	return ""
}

func openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
