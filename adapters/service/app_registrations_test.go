package service_test

import (
	"testing"

	"github.com/clientreg/clientreg/domain"
)

func TestAppRegistration(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	toks := a.tenant("office")
	editor, viewer := toks[domain.RoleEditor], toks[domain.RoleViewer]
	invited := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Lea", "last_name": "Maes", "email": "lea@example.be"}).expect(t, 201).str("id")
	uninvited := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Tom", "last_name": "Maes", "email": "tom@example.be"}).expect(t, 201).str("id")
	status := func(id string) string {
		t.Helper()
		return a.do("GET", "/v1/clients/"+id+"?min_position="+a.head(), viewer, nil).expect(t, 200).str("access_status")
	}
	if s := status(invited); s != "not_invited" {
		t.Fatalf("new client: %s", s)
	}
	a.do("POST", "/v1/clients/"+invited+"/invite", viewer, nil).expect(t, 403)
	a.do("POST", "/v1/clients/"+invited+"/invite", editor, nil).expect(t, 200)
	if s := status(invited); s != "invited" {
		t.Fatalf("after the invitation: %s", s)
	}
	// Validating before any registration is refused.
	if code := a.do("POST", "/v1/clients/"+invited+"/validate-access", editor, nil).expect(t, 409).errorCode(); code != "no_app_registration" {
		t.Fatal(code)
	}

	// The app registers users by email, whatever its case.
	r := a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "LEA@Example.be", "device": "iPhone"}).expect(t, 200)
	if r.str("status") != "linked" || r.str("client_id") != invited || r.str("access_status") != "registered" {
		t.Fatalf("invited client registers: %s", r.raw)
	}
	r = a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "tom@example.be", "device": "Pixel"}).expect(t, 200)
	if r.str("access_status") != "pending_validation" || status(uninvited) != "pending_validation" {
		t.Fatalf("uninvited client registers: %s", r.raw)
	}
	a.do("POST", "/v1/clients/"+uninvited+"/validate-access", editor, nil).expect(t, 200)
	if s := status(uninvited); s != "validated" {
		t.Fatalf("after validation: %s", s)
	}

	// An email nobody has is kept and listed; once the office fixes the
	// client's email, registering again links it.
	r = a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "lisa@example.be", "device": "iPad"}).expect(t, 200)
	if r.str("status") != "pending" {
		t.Fatalf("unknown email: %s", r.raw)
	}
	pending := a.do("GET", "/v1/app-registrations", viewer, nil).expect(t, 200).items()
	if len(pending) != 1 || pending[0]["email"] != "lisa@example.be" || pending[0]["device"] != "iPad" {
		t.Fatalf("pending: %v", pending)
	}
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "not an email"}).expect(t, 422)
	lisa := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Lisa", "last_name": "Maes", "email": "lisa@example.be"}).expect(t, 201).str("id")
	r = a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "lisa@example.be", "device": "iPad"}).expect(t, 200)
	if r.str("client_id") != lisa || len(a.do("GET", "/v1/app-registrations", viewer, nil).expect(t, 200).items()) != 0 {
		t.Fatalf("after the fix: %s", r.raw)
	}
	a.verify()
}
