package main

import (
	"bytes"
	"context"
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
	if !strings.HasPrefix(lastLine(out.String()), "crt_") {
		t.Fatalf("bootstrap output %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"bootstrap", "--token-file", tokenFile}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), tokenFile) {
		t.Fatalf("second bootstrap should say where the token is: %q", out.String())
	}
}
