package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

func TestDashboardDrawsTheCounts(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	for i, lang := range []string{"nl", "nl", "fr"} {
		d := person("Jo", []string{"Adams", "Bosmans", "Claes"}[i], []string{"a", "b", "c"}[i]+"@example.be")
		d[domain.FieldLanguage] = lang
		a.register(d)
	}
	tab := a.signedIn(domain.RoleAdmin)
	do(t, tab, chromedp.Navigate(a.base+"/"), chromedp.WaitVisible(chromedp.CSS("#results")),
		leaving(), chromedp.Click(chromedp.CSS(`nav a[href="/dashboard"]`)), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#d-lang + svg")))
	if got := text(t, tab, ".page-head .sub"); got != "3 active clients, 3 in all." {
		t.Errorf("summary %q", got)
	}
	// The chart writes its labels and numbers: it reads without colour.
	lang := run(t, tab, chromedp.TextContent(chromedp.CSS("#d-lang + svg")))
	if !strings.Contains(lang, "nl: 2") || !strings.Contains(lang, "fr: 1") {
		t.Errorf("language chart says %q", lang)
	}
	if got := run(t, tab, chromedp.AttributeValue(chromedp.CSS("#d-lang + svg"), "role")); got.Value != "img" {
		t.Errorf("chart role %q", got.Value)
	}
	shot(t, tab, "dashboard")
}
