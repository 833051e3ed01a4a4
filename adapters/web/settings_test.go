package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

func TestAdminAddsAPersonAndACustomField(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleAdmin)

	do(t, tab, chromedp.Navigate(a.base+"/settings/users"), chromedp.WaitVisible(chromedp.CSS("#user-email")),
		chromedp.SendKeys(chromedp.CSS("#user-email"), "Coach@Office.test"), chromedp.SetValue(chromedp.CSS("#user-role"), "editor"),
		leaving(), chromedp.Click(chromedp.CSS(`form[action="/settings/users"] button`)), newPage())
	password := text(t, tab, "#one-time-password")
	u, err := a.svc.Users.SignIn(context.Background(), "coach@office.test", password)
	if err != nil || u.Role != domain.RoleEditor || !u.MustSetPassword {
		t.Fatalf("the shown password signs in as %+v, %v", u, err)
	}
	if got := text(t, tab, "tbody"); !strings.Contains(got, "coach@office.test") || !strings.Contains(got, "one-time password not used yet") {
		t.Errorf("users table %q", got)
	}
	shot(t, tab, "users")
	// The same email again is refused next to the field.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#user-email"), "coach@office.test"), leaving(),
		chromedp.Click(chromedp.CSS(`form[action="/settings/users"] button`)), newPage())
	if got := text(t, tab, "#user-email-error"); got != "Someone already signs in with this email address." {
		t.Errorf("duplicate user: %q", got)
	}

	do(t, tab, chromedp.Click(chromedp.CSS(`.tabs a[href="/settings/custom-fields"]`)), chromedp.WaitVisible(chromedp.CSS("#field-name")),
		chromedp.SendKeys(chromedp.CSS("#field-name"), "segment"), chromedp.SetValue(chromedp.CSS("#field-type"), "choice"),
		chromedp.SendKeys(chromedp.CSS("#field-options"), "gold, silver"), leaving(),
		chromedp.Click(chromedp.CSS(`form[action="/settings/custom-fields"] button`)), newPage())
	if got := text(t, tab, "tbody"); !strings.Contains(got, "segment") || !strings.Contains(got, "gold, silver") {
		t.Errorf("fields table %q", got)
	}
	// The client form now has the field, with its choices as a hint.
	do(t, tab, chromedp.Navigate(a.base+"/clients/new"), chromedp.WaitVisible(chromedp.CSS(`[id="f-custom_fields.segment"]`)))
	if got := text(t, tab, `[id="custom_fields.segment-hint"]`); got != "One of: gold, silver" {
		t.Errorf("hint %q", got)
	}
}
