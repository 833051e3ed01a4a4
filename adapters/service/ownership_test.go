package service_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// An ERP's clients are deleted at the ERP: by hand they are refused until an
// admin detaches them, after which the ERP's pushes no longer change them.
func TestERPClientIsDeletedAtTheERPUnlessDetached(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	toks := a.tenant("office")
	admin, editor := toks[domain.RoleAdmin], toks[domain.RoleEditor]
	res := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "erp"}).expect(t, 201)
	conn, secret := res.str("id"), res.str("secret")
	jos := map[string]any{"first_name": "Jos", "last_name": "Wouters", "email": "jos@example.be", "phone": "+32 3 111 22 33"}
	id := a.push("PUT", conn, "K-1", secret, "", jos).expect(t, 200).str("client_id")

	refused := a.do("DELETE", "/v1/clients/"+id, editor, map[string]any{"reason": "left"}).expect(t, 409)
	if refused.errorCode() != "managed_by_source" || refused.str("error", "details", "source") != "erp" {
		t.Fatalf("delete of an ERP client: %s", refused.raw)
	}
	if got := a.findByEmail(editor, "jos@example.be"); len(got) != 1 || got[0]["status"] != "active" {
		t.Fatalf("after the refused delete: %v", got)
	}

	// Detaching is an admin's decision, recorded as an event.
	a.do("POST", "/v1/clients/"+id+"/detach", editor, nil).expect(t, 403)
	detached := a.do("POST", "/v1/clients/"+id+"/detach", admin, nil).expect(t, 200)
	got := a.do("GET", "/v1/clients/"+id+"?min_position="+detached.str("position"), editor, nil).expect(t, 200)
	if fmt.Sprint(got.body["external_refs"]) != "[]" || len(a.do("GET", "/v1/clients?source=erp", editor, nil).expect(t, 200).items()) != 0 {
		t.Fatalf("after detach: %s", got.raw)
	}
	if code := a.do("POST", "/v1/clients/"+id+"/detach", admin, nil).expect(t, 409).errorCode(); code != "not_managed_by_source" {
		t.Fatalf("second detach: %s", code)
	}
	history := a.do("GET", "/v1/clients/"+id+"/history", editor, nil).expect(t, 200).raw
	if !strings.Contains(history, "ClientDetachedFromSource") {
		t.Fatalf("history: %s", history)
	}
	// The ERP's next push no longer changes the office's client.
	jos["phone"] = "+32 3 999 99 99"
	a.push("PUT", conn, "K-1", secret, "", jos).expect(t, 200)
	if got := a.findByEmail(editor, "jos@example.be"); len(got) != 1 || got[0]["phone"] != "+32 3 111 22 33" {
		t.Fatalf("push after detach: %v", got)
	}
	a.do("DELETE", "/v1/clients/"+id, editor, map[string]any{"reason": "left"}).expect(t, 200)

	// A client the ERP deleted (removed at source) is the office's to delete.
	gone := a.push("PUT", conn, "K-2", secret, "", map[string]any{"first_name": "An", "last_name": "Peeters", "email": "an@example.be"}).
		expect(t, 200).str("client_id")
	a.push("DELETE", conn, "K-2", secret, "", nil).expect(t, 200)
	a.do("DELETE", "/v1/clients/"+gone, editor, nil).expect(t, 200)
	a.verify()
}

// The app's backend asks whether a person may come in; the office's
// invitation or validation decides, and counts on the very next call.
func TestAppAccess(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	toks := a.tenant("office")
	editor, viewer := toks[domain.RoleEditor], toks[domain.RoleViewer]
	appToken, err := a.svc.Tenants.CreateToken(context.Background(), "office", domain.RoleApp)
	if err != nil {
		t.Fatal(err)
	}
	access := func(tok, email string) string {
		t.Helper()
		return a.do("GET", "/v1/app-access?email="+url.QueryEscape(email), tok, nil).expect(t, 200).str("access")
	}

	invited := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Lea", "last_name": "Maes", "email": "lea@example.be"}).expect(t, 201).str("id")
	uninvited := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Tom", "last_name": "Maes", "email": "tom@example.be"}).expect(t, 201).str("id")
	if got := access(appToken, "lea@example.be"); got != "none" {
		t.Fatalf("before any registration: %s", got)
	}
	a.do("POST", "/v1/clients/"+invited+"/invite", editor, nil).expect(t, 200)
	if got := access(appToken, "lea@example.be"); got != "none" {
		t.Fatalf("invited, not registered: %s", got)
	}
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "lea@example.be"}).expect(t, 200)
	// Matched as registration matches: case and spaces do not matter.
	if got := access(appToken, "  LEA@Example.BE "); got != "granted" {
		t.Fatalf("invited and registered: %s", got)
	}
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "tom@example.be"}).expect(t, 200)
	if got := access(editor, "tom@example.be"); got != "pending_validation" {
		t.Fatalf("registered without invitation: %s", got)
	}
	a.do("POST", "/v1/clients/"+uninvited+"/validate-access", editor, nil).expect(t, 200)
	if got := access(appToken, "tom@example.be"); got != "granted" {
		t.Fatalf("right after validation: %s", got)
	}
	a.do("DELETE", "/v1/clients/"+uninvited, editor, nil).expect(t, 200)
	if got := access(appToken, "tom@example.be"); got != "none" {
		t.Fatalf("deleted client: %s", got)
	}
	// A registration that matched no client waits for the office.
	a.do("POST", "/v1/app-registrations", editor, map[string]any{"email": "lisa@example.be"}).expect(t, 200)
	if got := access(appToken, "Lisa@example.be"); got != "pending_validation" {
		t.Fatalf("unmatched registration: %s", got)
	}
	if got := access(appToken, "nobody@example.be"); got != "none" {
		t.Fatalf("unknown email: %s", got)
	}
	if r := a.do("GET", "/v1/app-access?email=not-an-email", appToken, nil).expect(t, 422); !strings.Contains(r.raw, `"field":"email"`) {
		t.Fatalf("bad email: %s", r.raw)
	}

	// The app role can do nothing else; a viewer cannot ask.
	a.do("GET", "/v1/app-access?email=lea@example.be", viewer, nil).expect(t, 403)
	a.do("GET", "/v1/clients", appToken, nil).expect(t, 403)
	a.do("GET", "/v1/clients/"+invited, appToken, nil).expect(t, 403)
	a.do("POST", "/v1/app-registrations", appToken, map[string]any{"email": "x@example.be"}).expect(t, 403)
	a.do("POST", "/v1/clients", appToken, map[string]any{"first_name": "X", "last_name": "Y", "email": "x@example.be"}).expect(t, 403)
}
