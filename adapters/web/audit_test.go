package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

func TestAuditFeedListsAndFilters(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.register(person("Anna", "Peeters", "anna@example.be"))
	tab := a.signedIn(domain.RoleViewer)
	do(t, tab, chromedp.Navigate(a.base+"/audit"), chromedp.WaitVisible(chromedp.CSS("#feed tbody tr")))
	if got := text(t, tab, "#feed tbody"); !strings.Contains(got, "Client added") || !strings.Contains(got, "API token") {
		t.Errorf("feed %q", got)
	}
	do(t, tab, chromedp.SetValue(chromedp.CSS("#type"), "ClientDeleted"), leaving(),
		chromedp.Click(chromedp.CSS(".filters button")), newPage(), chromedp.WaitVisible(chromedp.CSS(".empty")))
	shot(t, tab, "audit")
}

// TestAuditShowsNewEventsLive: with the audit open, a client registered
// through the API appears on top without a reload.
func TestAuditShowsNewEventsLive(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.register(person("Anna", "Peeters", "anna@example.be"))
	tab := a.signedIn(domain.RoleViewer)
	do(t, tab, chromedp.Navigate(a.base+"/audit"), chromedp.WaitVisible(chromedp.CSS("[data-live-state]")),
		until(`document.querySelector("[data-live-state]").innerText.startsWith("Live")`),
		step(chromedp.Evaluate[bool](`window.sameDocument = true`)))

	req, _ := http.NewRequest(http.MethodPost, a.base+"/v1/clients",
		strings.NewReader(`{"first_name":"Bram","last_name":"Claes","email":"bram@example.be"}`))
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var added struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &added) != nil {
		t.Fatalf("register through the API: %d %s", resp.StatusCode, raw)
	}

	do(t, tab, chromedp.WaitVisible(chromedp.CSS("[data-live-rows] tr")))
	row := text(t, tab, "[data-live-rows] tr")
	if !strings.Contains(row, "Client added") || !strings.Contains(row, "API token") {
		t.Errorf("live row %q", row)
	}
	if href := run(t, tab, chromedp.Evaluate[string](`document.querySelector("[data-live-rows] tr a").getAttribute("href")`)); href != "/clients/"+added.ID {
		t.Errorf("live row links %q, want the new client", href)
	}
	if !run(t, tab, chromedp.Evaluate[bool](`window.sameDocument === true`)) {
		t.Error("the page was reloaded")
	}
	shot(t, tab, "live")
}
