package web_test

import (
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
	do(t, tab, chromedp.Navigate(a.base+"/audit"), chromedp.WaitVisible(chromedp.CSS("tbody tr")))
	if got := text(t, tab, "tbody"); !strings.Contains(got, "Client added") || !strings.Contains(got, "API token") {
		t.Errorf("feed %q", got)
	}
	do(t, tab, chromedp.SetValue(chromedp.CSS("#type"), "ClientDeleted"), leaving(),
		chromedp.Click(chromedp.CSS(".filters button")), newPage(), chromedp.WaitVisible(chromedp.CSS(".empty")))
	shot(t, tab, "audit")
}
