package service_test

import (
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// An admin makes a token through the API (shown once), lists the tenant's
// tokens without their secrets, and revokes one, which is refused at once;
// an editor may do none of it, and another tenant cannot revoke it.
func TestAPITokensMadeListedAndRevoked(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	toks := a.tenant("office")
	admin := toks[domain.RoleAdmin]
	other := a.tenant("other")[domain.RoleAdmin]

	made := a.do("POST", "/v1/tokens", admin, map[string]any{"role": "viewer", "name": "Dashboard script"}).expect(t, 201)
	token, id := made.str("token"), made.str("id")
	if made.str("name") != "Dashboard script" || made.str("role") != "viewer" || made.str("created_by") == "" {
		t.Fatalf("made %s", made.raw)
	}
	a.do("GET", "/v1/clients", token, nil).expect(t, 200)
	a.do("POST", "/v1/tokens", admin, map[string]any{"role": "owner"}).expect(t, 422)
	a.do("POST", "/v1/tokens", toks[domain.RoleEditor], map[string]any{"role": "viewer"}).expect(t, 403)
	a.do("GET", "/v1/tokens", toks[domain.RoleEditor], nil).expect(t, 403)

	listed := a.do("GET", "/v1/tokens", admin, nil).expect(t, 200)
	items := listed.items()
	if len(items) != 4 || items[0]["id"] != id || items[0]["last_used_at"] == nil || items[0]["token"] != nil {
		t.Fatalf("tokens %s", listed.raw)
	}

	a.do("DELETE", "/v1/tokens/"+id, other, nil).expect(t, 404)
	a.do("GET", "/v1/clients", token, nil).expect(t, 200)
	if r := a.do("DELETE", "/v1/tokens/"+id, admin, nil).expect(t, 200); r.str("revoked_at") == "" {
		t.Errorf("revoked %s", r.raw)
	}
	if r := a.do("GET", "/v1/clients", token, nil).expect(t, 401); r.errorCode() != "unauthorized" {
		t.Errorf("a revoked token: %s", r.raw)
	}
	a.do("DELETE", "/v1/tokens/not-a-uuid", admin, nil).expect(t, 404)
}
