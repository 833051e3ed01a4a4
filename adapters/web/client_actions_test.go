package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// api sends a JSON request with the tenant's admin token and decodes the
// answer.
func (a *app) api(method, path, body string) map[string]any {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		a.t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, out, err)
	}
	return out
}

// submit clicks a button that sends a form and waits for the next page.
func submit(css string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for _, s := range []chromedp.Action[chromedp.Void]{leaving(), chromedp.Click(chromedp.CSS(css)), newPage()} {
			if _, err := s(ctx, t); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}
}

func TestEditorAddsChangesAndRemovesAContactPerson(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	res := a.register(map[domain.Field]string{domain.FieldKind: domain.KindCompany, domain.FieldCompanyName: "Bakkerij Peeters", domain.FieldEmail: "info@bakkerij.be"})
	page := a.base + "/clients/" + res.ID.String()

	// Nothing but a wrong email: both reasons next to their fields, what
	// was typed kept.
	do(t, tab, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(".add-contact summary")),
		chromedp.Click(chromedp.CSS(".add-contact summary")), chromedp.WaitVisible(chromedp.CSS("#f-contact-new-email")),
		chromedp.SendKeys(chromedp.CSS("#f-contact-new-email"), "marc@"), submit(".add-contact .btn-primary"))
	if got := text(t, tab, "#f-contact-new-last_name-error"); got != "The last name is missing." {
		t.Errorf("no name: %q", got)
	}
	if got := text(t, tab, "#f-contact-new-email-error"); !strings.Contains(strings.ToLower(got), "email") {
		t.Errorf("wrong email: %q", got)
	}
	if v := run(t, tab, chromedp.Value(chromedp.CSS("#f-contact-new-email"))); v != "marc@" {
		t.Errorf("the email typed was lost: %q", v)
	}
	shot(t, tab, "add-errors")

	do(t, tab, chromedp.SendKeys(chromedp.CSS("#f-contact-new-first_name"), "Marc"),
		chromedp.SendKeys(chromedp.CSS("#f-contact-new-last_name"), "Dubois"),
		chromedp.SendKeys(chromedp.CSS("#f-contact-new-role"), "Accountant"),
		chromedp.SetValue(chromedp.CSS("#f-contact-new-email"), "marc@bakkerij.be"), submit(".add-contact .btn-primary"))
	if got := text(t, tab, ".flash"); got != "The contact person was added." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, ".contacts"); !strings.Contains(got, "Marc Dubois") || !strings.Contains(got, "Accountant") || !strings.Contains(got, "marc@bakkerij.be") {
		t.Errorf("contacts %q", got)
	}

	// Edit: only the role changes.
	do(t, tab, chromedp.Click(chromedp.CSS(".contacts li details:first-of-type summary")),
		chromedp.WaitVisible(chromedp.CSS(".contacts details[open] input[name=role]")),
		chromedp.SetValue(chromedp.CSS(".contacts details[open] input[name=role]"), "Partner"))
	shot(t, tab, "edit")
	// The rest at a tablet's width.
	do(t, tab, chromedp.EmulateViewport(820, 1180))
	shot(t, tab, "edit-tablet")
	do(t, tab, submit(".contacts details[open] .btn-primary"))
	if got := text(t, tab, ".flash"); got != "The contact person was saved." {
		t.Fatalf("flash %q", got)
	}
	v, err := a.svc.Reads.Client(context.Background(), a.tenantID, res.ID)
	if err != nil || len(v.ContactPersons) != 1 || v.ContactPersons[0]["role"] != "Partner" || v.ContactPersons[0]["email"] != "marc@bakkerij.be" {
		t.Fatalf("after the edit: %+v, %v", v.ContactPersons, err)
	}

	// Remove, after saying whom.
	do(t, tab, chromedp.Click(chromedp.CSS(".contacts li details:nth-of-type(2) summary")),
		chromedp.WaitVisible(chromedp.CSS(".contacts details[open] .btn-danger")))
	if got := text(t, tab, ".contacts details[open] p"); got != "Remove Marc Dubois from this client's contact persons?" {
		t.Errorf("confirmation %q", got)
	}
	do(t, tab, submit(".contacts details[open] .btn-danger"))
	if got := text(t, tab, ".flash"); got != "The contact person was removed." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, "#contacts"); !strings.Contains(got, "No contact persons.") {
		t.Errorf("contacts after removal %q", got)
	}
}

func TestEditorPutsAClientOnAListAndTakesItOff(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	ctx := context.Background()
	newsletter, err := a.svc.Commands.CreateList.Handle(ctx, commands.CreateList{Origin: a.origin(), Name: "Newsletter"})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := a.svc.Commands.CreateList.Handle(ctx, commands.CreateList{Origin: a.origin(), Name: "Old mailing"})
	if err != nil {
		t.Fatal(err)
	}
	res := a.register(person("Anna", "Peeters", "anna@example.be"))
	a.await(gone.Position)

	do(t, tab, chromedp.Navigate(a.base+"/clients/"+res.ID.String()), chromedp.WaitVisible(chromedp.CSS("#add-list")))
	// A list deleted while the page was open is refused next to the choice.
	if _, err := a.svc.Commands.DeleteList.Handle(ctx, commands.DeleteList{Origin: a.origin(), ListID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.SetValue(chromedp.CSS("#add-list"), gone.ID.String()), submit(".add-to-list button"))
	if got := text(t, tab, "#add-list-error"); got != "This list no longer exists; choose another." {
		t.Errorf("deleted list: %q", got)
	}
	do(t, tab, chromedp.SetValue(chromedp.CSS("#add-list"), newsletter.ID.String()), submit(".add-to-list button"))
	if got := text(t, tab, ".flash"); got != "The client was added to the list." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, ".member-lists"); !strings.Contains(got, "Newsletter") {
		t.Errorf("lists %q", got)
	}
	shot(t, tab, "on-list")
	do(t, tab, submit(".member-lists button"))
	if got := text(t, tab, ".flash"); got != "The client was taken off the list." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, "#lists"); !strings.Contains(got, "On no list.") {
		t.Errorf("lists after removal %q", got)
	}
}

func TestEditorInvitesValidatesAndRevokesAppAccess(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	res := a.register(person("Lea", "Claes", "lea@example.be"))
	page := a.base + "/clients/" + res.ID.String()

	do(t, tab, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#access")))
	if got := text(t, tab, "#access .btn"); got != "Send an invitation" {
		t.Fatalf("button %q", got)
	}
	do(t, tab, submit(`#access form[action$="/access/invite"] button`))
	if got := text(t, tab, ".flash"); got != "The invitation was sent." {
		t.Fatalf("flash %q", got)
	}
	do(t, tab, submit(`#access form[action$="/access/invite"] button`))
	if got := text(t, tab, "#access dl"); !strings.Contains(got, "Invited") || !strings.Contains(got, "2 sent") {
		t.Errorf("after two invitations: %q", got)
	}
	if got := text(t, tab, "#access .btn"); got != "Resend invitation" {
		t.Errorf("button %q", got)
	}

	// The client registers in the app; the office validates, then revokes.
	reg := a.api(http.MethodPost, "/v1/app-registrations", `{"email":"lea@example.be","device":"iPhone 15"}`)
	a.await(int64(reg["position"].(float64)))
	do(t, tab, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#access")))
	if got := text(t, tab, "#access dl"); !strings.Contains(got, "Registered") || !strings.Contains(got, "iPhone 15") {
		t.Errorf("registered: %q", got)
	}
	do(t, tab, submit(`#access form[action$="/access/validate"] button`))
	if got := text(t, tab, ".flash"); got != "The app access was validated." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, "#access .badge"); got != "Validated" {
		t.Errorf("status %q", got)
	}
	shot(t, tab, "validated")
	do(t, tab, chromedp.Click(chromedp.CSS("#access .confirm summary")), chromedp.WaitVisible(chromedp.CSS("#access .confirm .btn-danger")))
	if got := text(t, tab, "#access .confirm p"); !strings.Contains(got, "The app refuses Lea Claes") {
		t.Errorf("confirmation %q", got)
	}
	shot(t, tab, "revoke-confirm")
	do(t, tab, submit("#access .confirm .btn-danger"))
	if got := text(t, tab, ".flash"); got != "The app access was revoked." {
		t.Fatalf("flash %q", got)
	}
	if got := a.api(http.MethodGet, "/v1/app-access?email=lea@example.be", ""); got["access"] != "none" {
		t.Errorf("the app is told %v", got)
	}
	if got := text(t, tab, "#access .badge"); got != "Revoked" {
		t.Errorf("status %q", got)
	}
}
