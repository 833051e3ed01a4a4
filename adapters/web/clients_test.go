package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// register adds a client as a machine would, through the API's command.
func (a *app) register(details map[domain.Field]string) commands.Result {
	a.t.Helper()
	res, err := a.svc.Commands.RegisterClient.Handle(context.Background(), commands.RegisterClient{
		Origin: a.origin(), Input: domain.ClientInput{Details: details}})
	if err != nil {
		a.t.Fatal(err)
	}
	a.await(res.Position)
	return res
}

func (a *app) origin() domain.Origin {
	return domain.Origin{TenantID: a.tenantID, Actor: "token:" + uuid.NewString()}
}

// await waits until the read models hold the event at pos: up to 30 s, as
// a machine running much else may leave a projector seconds behind.
func (a *app) await(pos int64) {
	a.t.Helper()
	if err := a.svc.Reads.WaitForPosition(context.Background(), a.tenantID, pos, projections.Names(), 30*time.Second); err != nil {
		a.t.Fatal(err)
	}
}

func person(first, last, email string) map[domain.Field]string {
	return map[domain.Field]string{domain.FieldFirstName: first, domain.FieldLastName: last, domain.FieldEmail: email}
}

func TestAddEditWithAConflictDeleteAndRestoreAClient(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)

	// Add: the form says what is missing next to each field.
	do(t, tab, chromedp.Navigate(a.base+"/clients"),
		chromedp.Click(chromedp.CSS(".page-head a.btn-primary")),
		chromedp.WaitVisible(chromedp.CSS("#f-first_name")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "anna@"),
		chromedp.Click(chromedp.CSS("form.card button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	for field, want := range map[string]string{
		"first_name": "first name is missing", "last_name": "last name is missing", "email": "not a valid email address",
	} {
		if got := text(t, tab, "#"+field+"-error"); !strings.Contains(strings.ToLower(got), want) {
			t.Errorf("error next to %s: %q, want %q", field, got, want)
		}
	}
	shot(t, tab, "add-errors")
	if v := run(t, tab, chromedp.Value(chromedp.CSS("#f-email"))); v != "anna@" {
		t.Errorf("the email typed was lost: %q", v)
	}
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#f-first_name"), "Anna"),
		chromedp.SendKeys(chromedp.CSS("#f-last_name"), "Peeters"),
		chromedp.SetValue(chromedp.CSS("#f-email"), "anna.peeters@example.be"),
		chromedp.SendKeys(chromedp.CSS("#f-city"), "Gent"),
		chromedp.Click(chromedp.CSS("form.card button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(t, tab, ".flash"); got != "The client was added." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, "h1"); got != "Anna Peeters" {
		t.Errorf("title %q", got)
	}
	id, err := uuid.Parse(strings.TrimPrefix(strings.SplitN(location(t, tab), "?", 2)[0], a.base+"/clients/"))
	if err != nil {
		t.Fatal(err)
	}

	// Edit while someone else changes the phone: the save is refused and
	// says what changed.
	do(t, tab, chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)), chromedp.WaitVisible(chromedp.CSS("#f-city")))
	res, err := a.svc.Commands.ChangeClientDetails.Handle(context.Background(), commands.ChangeClientDetails{
		Origin: a.origin(), ClientID: id, ExpectedVersion: 1,
		Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldPhone: "+32 9 123 45 67"}}})
	if err != nil {
		t.Fatal(err)
	}
	a.await(res.Position)
	do(t, tab, chromedp.SetValue(chromedp.CSS("#f-city"), "Brugge"),
		chromedp.Click(chromedp.CSS("form.card button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".conflict")))
	if got := text(t, tab, "#form-error"); !strings.HasPrefix(got, "Someone else changed this client after you opened it.") {
		t.Errorf("conflict message %q", got)
	}
	if got := text(t, tab, ".conflict .timeline"); !strings.Contains(got, "Phone: +32 9 123 45 67") || !strings.Contains(got, "API token") {
		t.Errorf("what changed meanwhile: %q", got)
	}
	shot(t, tab, "conflict")
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("form.card button[type=submit]")), newPage())
	if got := text(t, tab, ".flash"); got != "Your changes were saved." {
		t.Fatalf("flash after saving again: %q", got)
	}
	v, err := a.svc.Reads.Client(context.Background(), a.tenantID, id)
	if err != nil || v.Address.City != "Brugge" || v.Phone != "+32 9 123 45 67" {
		t.Fatalf("after the second save: city %q phone %q (%v)", v.Address.City, v.Phone, err)
	}
	if got := text(t, tab, ".timeline"); !strings.Contains(got, "City: Gent → Brugge") || !strings.Contains(got, "editor@office.test") {
		t.Errorf("timeline %q", got)
	}
	shot(t, tab, "client")

	// Delete asks first, in a dialog.
	do(t, tab, chromedp.Click(chromedp.CSS(`[data-dialog="delete-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#delete-dialog")))
	if got := text(t, tab, "#delete-dialog p"); !strings.HasPrefix(got, "Anna Peeters will leave the client list") {
		t.Errorf("dialog says %q", got)
	}
	shotViewport(t, tab, "delete-dialog")
	do(t, tab, chromedp.Click(chromedp.CSS("#delete-dialog button[data-close]")), chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")))
	if v, _ := a.svc.Reads.Client(context.Background(), a.tenantID, id); v.Status != "active" {
		t.Fatalf("cancel deleted the client: %s", v.Status)
	}
	do(t, tab, chromedp.Click(chromedp.CSS(`[data-dialog="delete-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#delete-dialog")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "left the office"), leaving(),
		chromedp.Click(chromedp.CSS("#delete-dialog .btn-danger")), newPage())
	if got := text(t, tab, ".flash"); !strings.HasPrefix(got, "The client was deleted.") {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, ".timeline li"); !strings.Contains(got, "Deleted") || !strings.Contains(got, "left the office") {
		t.Errorf("latest timeline entry %q", got)
	}
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(`form[action$="/restore"] button`)), newPage())
	if got := text(t, tab, ".flash"); got != "The client was restored." {
		t.Fatalf("flash %q", got)
	}
	if v, _ := a.svc.Reads.Client(context.Background(), a.tenantID, id); v.Status != "active" {
		t.Fatalf("restored client is %s", v.Status)
	}
}

func TestClientsSearchAsYouTypeFilterAndPage(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	for i := range 52 {
		a.register(person("Member", fmt.Sprintf("Number %02d", i), fmt.Sprintf("member%02d@example.be", i)))
	}
	a.register(person("Zebedee", "Janssens", "zebedee@example.be"))
	tab := a.signedIn(domain.RoleViewer)

	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#results table")))
	if n := rows(t, tab); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	// A viewer reads; adding is not offered.
	if n := run(t, tab, chromedp.Evaluate[int](`document.querySelectorAll('a[href="/clients/new"]').length`)); n != 0 {
		t.Error("a viewer is offered to add a client")
	}
	do(t, tab, chromedp.Click(chromedp.CSS(`a[rel="next"]`)), chromedp.WaitVisible(chromedp.CSS("#results table")))
	if n := rows(t, tab); n != 3 {
		t.Errorf("second page has %d rows, want 3", n)
	}

	// The column headers sort: name Z to A, then most recently updated first.
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#results table")),
		leaving(), chromedp.Click(chromedp.CSS(`th a[href*="sort=-name"]`)), newPage())
	if got := text(t, tab, "#results tbody tr td"); got != "Member Number 51" {
		t.Errorf("first by name Z to A: %q", got)
	}
	if got := run(t, tab, chromedp.AttributeValue(chromedp.CSS("th[aria-sort]"), "aria-sort")); got.Value != "descending" {
		t.Errorf("aria-sort %q", got.Value)
	}
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(`th a[href*="sort=-updated"]`)), newPage())
	if got := text(t, tab, "#results tbody tr td"); got != "Zebedee Janssens" {
		t.Errorf("first by last update: %q", got)
	}

	// Typing narrows the table without submitting the form.
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#results table")),
		chromedp.SendKeys(chromedp.CSS("#q"), "zeb"),
		step(chromedp.Poll[bool](`document.querySelectorAll("#results tbody tr").length === 1`)))
	if got := text(t, tab, "#results tbody tr"); !strings.Contains(got, "Zebedee Janssens") {
		t.Errorf("search result %q", got)
	}
	if loc := location(t, tab); !strings.HasSuffix(loc, "/clients?q=zeb") {
		t.Errorf("the address does not keep the search: %s", loc)
	}
	shot(t, tab, "search")
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#q"), "ulu"), chromedp.WaitVisible(chromedp.CSS("#results .empty")))
	do(t, tab, setField("#q", ""), setField("#status", "deleted"),
		step(chromedp.Poll[bool](`location.search === "?status=deleted"`)))
	if got := text(t, tab, "#results .empty"); got != "No client matches these filters." {
		t.Errorf("no deleted clients: %q", got)
	}
}

func rows(t *testing.T, tab context.Context) int {
	t.Helper()
	return run(t, tab, chromedp.Evaluate[int](`document.querySelectorAll('#results tbody tr').length`))
}

// setField sets an input or select as a person would, with its input event.
func setField(css, value string) chromedp.Action[chromedp.Void] {
	return step(chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		return el.dispatchEvent(new Event("input", {bubbles: true})); })()`, css, value)))
}
