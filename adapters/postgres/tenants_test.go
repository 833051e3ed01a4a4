package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
)

// A token made with a name is listed with who made it, never with itself;
// using it is noted; once revoked it no longer authenticates, and another
// tenant can neither see nor revoke it.
func TestTokensListedUsedAndRevoked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tenants := postgres.NewTenants(pgtest.NewPool(t))
	office, _, err := tenants.Create(ctx, "office")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := tenants.Create(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	made, token, err := tenants.IssueToken(ctx, office, domain.RoleEditor, "  ERP push  ", "user:someone")
	if err != nil {
		t.Fatal(err)
	}
	if made.Name != "ERP push" || made.Role != domain.RoleEditor || made.CreatedAt.IsZero() {
		t.Errorf("made %+v", made)
	}
	if _, _, err := tenants.IssueToken(ctx, office, "owner", "", ""); !errors.Is(err, domain.ErrInvalidRole) {
		t.Errorf("role owner: %v", err)
	}
	p, err := tenants.Authenticate(ctx, token)
	if err != nil || p.TokenID != made.ID || p.Role != domain.RoleEditor {
		t.Fatalf("authenticate: %+v, %v", p, err)
	}
	list, err := tenants.Tokens(ctx, office)
	if err != nil {
		t.Fatal(err)
	}
	// The new token first, then the tenant's first admin token (made by
	// no one the console knows, never used).
	if len(list) != 2 || list[0].ID != made.ID || list[0].CreatedBy != "user:someone" || list[0].LastUsedAt == nil ||
		list[1].Role != domain.RoleAdmin || list[1].CreatedBy != "" || list[1].LastUsedAt != nil {
		t.Fatalf("tokens %+v", list)
	}

	if _, err := tenants.RevokeToken(ctx, other, made.ID); !errors.Is(err, domain.ErrTokenNotFound) {
		t.Errorf("another tenant revokes: %v", err)
	}
	if _, err := tenants.Authenticate(ctx, token); err != nil {
		t.Fatalf("still valid after the other tenant's try: %v", err)
	}
	revoked, err := tenants.RevokeToken(ctx, office, made.ID)
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	if _, err := tenants.Authenticate(ctx, token); !errors.Is(err, domain.ErrInvalidToken) {
		t.Errorf("a revoked token authenticates: %v", err)
	}
	if again, err := tenants.RevokeToken(ctx, office, made.ID); err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Errorf("revoking again: %+v, %v", again, err)
	}
	if list, _ := tenants.Tokens(ctx, office); len(list) != 2 || list[1].ID != made.ID {
		t.Errorf("a revoked token is listed last: %+v", list)
	}
}
