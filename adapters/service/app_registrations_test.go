package service_test

import (
	"context"
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

// TestAppAccessHandledByTheOffice: what the office sees and does about the
// client's app, each action an event.
func TestAppAccessHandledByTheOffice(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	toks := a.tenant("office")
	editor, viewer := toks[domain.RoleEditor], toks[domain.RoleViewer]
	newClient := func(first, email string) string {
		return a.do("POST", "/v1/clients", editor, map[string]any{"first_name": first, "last_name": "Claes", "email": email}).expect(t, 201).str("id")
	}
	app := func(id string) map[string]any {
		t.Helper()
		return a.do("GET", "/v1/clients/"+id+"?min_position="+a.head(), viewer, nil).expect(t, 200).body["app"].(map[string]any)
	}
	lea, tom, ann, els := newClient("Lea", "lea@example.be"), newClient("Tom", "tom@example.be"), newClient("Ann", "ann@example.be"), newClient("Els", "els@example.be")

	// Two invitations (a reminder), then the registration: shown with the
	// device and when; a third invitation is refused with a reason.
	a.do("POST", "/v1/clients/"+lea+"/invite", editor, nil).expect(t, 200)
	a.do("POST", "/v1/clients/"+lea+"/invite", editor, nil).expect(t, 200)
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "lea@example.be", "device": "iPhone 15"}).expect(t, 200)
	if v := app(lea); v["access_status"] != "registered" || v["device"] != "iPhone 15" || v["registered_at"] == nil ||
		v["invitations_sent"] != float64(2) || v["last_invited_at"] == nil {
		t.Fatalf("registered client: %v", v)
	}
	if r := a.do("POST", "/v1/clients/"+lea+"/invite", editor, nil).expect(t, 409); r.errorCode() != "already_registered" {
		t.Fatalf("resend: %s", r.raw)
	}

	// Uninvited registrations wait for the office; the list filters them.
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "tom@example.be", "device": "Pixel"}).expect(t, 200)
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "ann@example.be", "device": "Galaxy"}).expect(t, 200)
	waiting := a.do("GET", "/v1/clients?access=pending_validation&min_position="+a.head(), viewer, nil).expect(t, 200).items()
	if len(waiting) != 2 {
		t.Fatalf("pending_validation: %v", waiting)
	}
	a.do("GET", "/v1/clients?access=maybe", viewer, nil).expect(t, 400)

	// Reject Tom's; validate Ann's, then revoke it.
	a.do("POST", "/v1/clients/"+tom+"/reject-registration", editor, nil).expect(t, 200)
	if v := app(tom); v["access_status"] != "not_invited" || v["device"] != nil {
		t.Fatalf("rejected: %v", v)
	}
	a.do("POST", "/v1/clients/"+tom+"/reject-registration", editor, nil).expect(t, 409)
	a.do("POST", "/v1/clients/"+ann+"/validate-access", editor, nil).expect(t, 200)
	// A new registration with another email (the client's email changed
	// since) never downgrades a validated client.
	version := a.do("GET", "/v1/clients/"+ann+"?min_position="+a.head(), viewer, nil).expect(t, 200).str("version")
	a.do("PATCH", "/v1/clients/"+ann, editor, map[string]any{"email": "ann.claes@example.be"}, "If-Match", version).expect(t, 200)
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "ann.claes@example.be", "device": "Galaxy S24"}).expect(t, 200)
	if v := app(ann); v["access_status"] != "validated" {
		t.Fatalf("downgraded: %v", v)
	}
	a.do("POST", "/v1/clients/"+ann+"/revoke-access", editor, nil).expect(t, 200)
	if got := a.do("GET", "/v1/app-access?email=ann.claes@example.be", editor, nil).expect(t, 200).str("access"); got != "none" || app(ann)["access_status"] != "revoked" {
		t.Fatalf("revoked: %s", got)
	}

	// A registration that matched nobody: the office links it to Els
	// (validated), or rejects another one.
	reg := a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "els.private@example.be", "device": "iPad"}).expect(t, 200).str("id")
	other := a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "stranger@example.be"}).expect(t, 200).str("id")
	a.do("POST", "/v1/app-registrations/"+reg+"/link", editor, map[string]any{"client_id": els}).expect(t, 200)
	if v := app(els); v["access_status"] != "validated" || v["device"] != "iPad" {
		t.Fatalf("linked: %v", v)
	}
	a.do("POST", "/v1/app-registrations/"+other+"/reject", editor, nil).expect(t, 200)
	a.do("POST", "/v1/app-registrations/"+other+"/reject", editor, nil).expect(t, 404)
	if n := len(a.do("GET", "/v1/app-registrations", viewer, nil).expect(t, 200).items()); n != 0 {
		t.Fatalf("%d registrations still pending", n)
	}
	for _, typ := range []string{"AppRegistrationRejected", "AppAccessRevoked", "AppAccessValidated"} {
		var n int
		if err := a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = $1`, typ).Scan(&n); err != nil || n == 0 {
			t.Fatalf("no %s event: %v", typ, err)
		}
	}
	a.verify()
}
