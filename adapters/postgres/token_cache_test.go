package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
)

// Tokens are remembered while their changes are listened to; a role
// changed or a token revoked in SQL takes effect at once all the same.
func TestTokenChangedInSQLTakesEffectWhileTokensAreRemembered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tenants := postgres.NewTenants(pool)
	_, token, err := tenants.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	stopWatching := inBackground(tenants.WatchTokens)
	defer func() {
		if err := stopWatching(); err != nil {
			t.Errorf("WatchTokens: %v", err)
		}
	}()
	// Once the listener is in place, the token is remembered.
	deadline := time.Now().Add(30 * time.Second)
	for listening := 0; listening == 0; {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN api_tokens_changed'`).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection listens to token changes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 2 {
		if p, err := tenants.Authenticate(ctx, token); err != nil || p.Role != domain.RoleAdmin {
			t.Fatalf("authenticated as %+v (%v), want the admin", p, err)
		}
	}

	// The notification arrives after the change commits: allow it a moment.
	within := func(what string, ok func(domain.Principal, error) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, err := tenants.Authenticate(ctx, token)
			if ok(p, err) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still authenticated as %+v (%v) after 5 s", what, p, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET role = 'viewer'`); err != nil {
		t.Fatal(err)
	}
	within("role changed to viewer", func(p domain.Principal, err error) bool { return err == nil && p.Role == domain.RoleViewer })
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now()`); err != nil {
		t.Fatal(err)
	}
	within("token revoked", func(_ domain.Principal, err error) bool { return errors.Is(err, domain.ErrInvalidToken) })
}
