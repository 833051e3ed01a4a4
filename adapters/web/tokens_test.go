package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

// apiStatus is what the API answers a machine holding token.
func (a *app) apiStatus(token string) int {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.base+"/v1/clients", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAdminMakesAndRevokesAnAPIToken(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleAdmin)

	do(t, tab, chromedp.Navigate(a.base+"/settings/users"), chromedp.WaitVisible(chromedp.CSS(".tabs")),
		chromedp.Click(chromedp.CSS(`.tabs a[href="/settings/tokens"]`)), chromedp.WaitVisible(chromedp.CSS("#token-name")),
		chromedp.SendKeys(chromedp.CSS("#token-name"), "ERP push"), chromedp.SetValue(chromedp.CSS("#token-role"), "editor"),
		leaving(), chromedp.Click(chromedp.CSS(`form[action="/settings/tokens"] button`)), newPage())
	token := text(t, tab, "#new-token")
	if !strings.HasPrefix(token, "crt_") {
		t.Fatalf("shown token %q", token)
	}
	if got := a.apiStatus(token); got != http.StatusOK {
		t.Fatalf("the new token answers %d", got)
	}
	shot(t, tab, "made")
	// Shown once: the page again lists it, never the token itself.
	do(t, tab, chromedp.Navigate(a.base+"/settings/tokens"), chromedp.WaitVisible(chromedp.CSS("tbody")))
	if html := run(t, tab, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, token) {
		t.Error("the token is shown again")
	}
	row := text(t, tab, "tbody tr:first-child")
	for _, want := range []string{"ERP push", "Editor", "admin@office.test"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if strings.Contains(row, "never") {
		t.Errorf("the token was used, the row says %q", row)
	}
	if got := text(t, tab, "tbody tr:last-child"); !strings.Contains(got, "at setup") || !strings.Contains(got, "Admin") {
		t.Errorf("the tenant's first token: %q", got)
	}
	shot(t, tab, "list")

	// Revoke, after the dialog says what will happen.
	do(t, tab, chromedp.Click(chromedp.CSS("tbody tr:first-child .row-actions a")), chromedp.WaitVisible(chromedp.CSS("dialog[open]")))
	if got := text(t, tab, "dialog[open] p"); !strings.Contains(got, "“ERP push” (Editor) is refused") {
		t.Errorf("dialog %q", got)
	}
	shotViewport(t, tab, "revoke-dialog")
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("dialog[open] .btn-danger")), newPage())
	if got := text(t, tab, ".flash"); got != "The token was revoked: it no longer works." {
		t.Errorf("flash %q", got)
	}
	if got := a.apiStatus(token); got != http.StatusUnauthorized {
		t.Errorf("the revoked token answers %d", got)
	}
	if got := text(t, tab, "tbody tr:last-child"); !strings.Contains(got, "ERP push") || !strings.Contains(got, "revoked") {
		t.Errorf("the revoked token's row: %q", got)
	}
	if n := run(t, tab, chromedp.Evaluate[int](`document.querySelectorAll("tbody tr:last-child .row-actions a").length`)); n != 0 {
		t.Errorf("a revoked token still has %d revoke links", n)
	}
}

// Only an admin sees the tokens page.
func TestTokensPageIsForAdmins(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	do(t, tab, chromedp.Navigate(a.base+"/settings/tokens"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text(t, tab, "main"); strings.Contains(got, "Make a token") {
		t.Errorf("an editor sees %q", got)
	}
}
