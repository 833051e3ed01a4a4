package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

func TestListsCreateRenameOpenAndDelete(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	anna := a.register(person("Anna", "Peeters", "anna@example.be"))
	tab := a.signedIn(domain.RoleEditor)

	do(t, tab, chromedp.Navigate(a.base+"/lists"), chromedp.WaitVisible(chromedp.CSS("#list-name")),
		chromedp.SendKeys(chromedp.CSS("#list-name"), "Seminar 2027"), leaving(),
		chromedp.Click(chromedp.CSS(`form[action="/lists"] button`)), newPage())
	if got := text(t, tab, ".flash"); got != "The list was created." {
		t.Fatalf("flash %q", got)
	}
	// The same name again is refused next to the field.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#list-name"), "seminar 2027"), leaving(),
		chromedp.Click(chromedp.CSS(`form[action="/lists"] button`)), newPage())
	if got := text(t, tab, "#list-name-error"); got != "Another list already has this name." {
		t.Errorf("duplicate name: %q", got)
	}

	lists, err := a.svc.Reads.Lists(context.Background(), a.tenantID)
	if err != nil || len(lists) != 1 {
		t.Fatalf("lists %v, %v", lists, err)
	}
	res, err := a.svc.Commands.AddClientToList.Handle(context.Background(), commands.AddClientToList{
		Origin: a.origin(), ClientID: anna.ID, ListID: lists[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	a.await(res.Position)

	do(t, tab, chromedp.Navigate(a.base+"/lists"), chromedp.WaitVisible(chromedp.CSS("tbody tr")))
	if got := text(t, tab, "tbody tr"); !strings.Contains(got, "Seminar 2027") || !strings.Contains(got, "1") {
		t.Errorf("list row %q", got)
	}
	do(t, tab, chromedp.Click(chromedp.CSS("tbody summary")), chromedp.WaitVisible(chromedp.CSS(".rename-form input[name=name]")),
		chromedp.SetValue(chromedp.CSS(".rename-form input[name=name]"), "Seminar 2028"), leaving(),
		chromedp.Click(chromedp.CSS(".rename-form button")), newPage())
	if got := text(t, tab, "tbody tr td a"); got != "Seminar 2028" {
		t.Errorf("renamed list shows as %q", got)
	}
	shot(t, tab, "lists")

	// A list opens on its clients.
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("tbody tr td a")), newPage(), chromedp.WaitVisible(chromedp.CSS("#results")))
	if got := text(t, tab, "#results tbody"); !strings.Contains(got, "Anna Peeters") {
		t.Errorf("the list's clients: %q", got)
	}

	do(t, tab, chromedp.Navigate(a.base+"/lists"), chromedp.WaitVisible(chromedp.CSS("tbody tr")),
		chromedp.Click(chromedp.CSS(`tbody [data-dialog]`)), chromedp.WaitVisible(chromedp.CSS("tbody dialog")))
	if got := text(t, tab, "tbody dialog p"); got != "The list Seminar 2028 goes away; its 1 clients stay in the registry." {
		t.Errorf("dialog %q", got)
	}
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("tbody dialog .btn-danger")), newPage())
	if got := text(t, tab, ".flash"); got != "The list was deleted." {
		t.Errorf("flash %q", got)
	}
	if lists, _ := a.svc.Reads.Lists(context.Background(), a.tenantID); len(lists) != 0 {
		t.Errorf("lists after delete: %v", lists)
	}
	if v, _ := a.svc.Reads.Client(context.Background(), a.tenantID, anna.ID); v.Status != "active" {
		t.Errorf("the client went with the list: %s", v.Status)
	}
}
