package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

func TestSignInChooseAPasswordAndSignOut(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, oneTime := a.user("Anna@Office.test", domain.RoleAdmin)
	tab := newTab(t)

	// A page of the console sends a stranger to the sign-in form.
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if loc := location(t, tab); !strings.Contains(loc, "/signin?back=%2Fclients") {
		t.Fatalf("at %s, want the sign-in page", loc)
	}
	shot(t, tab, "signin")

	// A wrong password is refused, the email kept.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#email"), "anna@office.test"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	if msg := text(t, tab, "#signin-error"); msg != "The email address or the password is wrong." {
		t.Fatalf("error %q", msg)
	}
	if v := run(t, tab, chromedp.Value(chromedp.CSS("#email"))); v != "anna@office.test" {
		t.Errorf("email field holds %q after the refusal", v)
	}

	// The one-time password leads to choosing one's own.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#password"), oneTime),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password_again")))
	cookies, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{a.base}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "clientreg_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	// Until then, the console's pages wait.
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#password_again")))

	do(t, tab, chromedp.SendKeys(chromedp.CSS("#password"), "short"),
		chromedp.SendKeys(chromedp.CSS("#password_again"), "short"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#password-error")))
	if msg := text(t, tab, "#password-error"); !strings.Contains(msg, "at least 10 characters") {
		t.Fatalf("short password: %q", msg)
	}
	shot(t, tab, "password")
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS("#password_again"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if msg := text(t, tab, ".flash"); msg != "Your password is saved." {
		t.Fatalf("flash %q", msg)
	}
	if who := text(t, tab, ".who"); !strings.Contains(who, "anna@office.test") || !strings.Contains(who, "Admin") {
		t.Errorf("signed in as %q", who)
	}
	shot(t, tab, "clients")

	// Signing out ends the session: the console asks to sign in again.
	do(t, tab, chromedp.Click(chromedp.CSS("form[action='/signout'] button")), chromedp.WaitVisible(chromedp.CSS("#email")))
	if msg := text(t, tab, ".flash"); msg != "You are signed out." {
		t.Errorf("flash %q", msg)
	}
	if _, err := a.svc.Users.Session(context.Background(), session.Value); err == nil {
		t.Error("the session still works after signing out")
	}
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#email")))

	// The chosen password works; the one-time one no longer does.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#email"), "anna@office.test"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".who")))
	if loc := location(t, tab); !strings.HasSuffix(loc, "/clients") {
		t.Errorf("after sign-in at %s, want back at /clients", loc)
	}
	if _, err := a.svc.Users.SignIn(context.Background(), "anna@office.test", oneTime); err == nil {
		t.Error("the one-time password still works")
	}
}

func TestFailedSignInsAreSlowedDown(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.user("ben@office.test", domain.RoleViewer)
	tab := newTab(t)
	do(t, tab, chromedp.Navigate(a.base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	// The page before a submit is marked, so that waiting for the error
	// waits for the answer's page, not the error still on the old one.
	submit := func(password string) {
		do(t, tab, chromedp.SetValue(chromedp.CSS("#email"), "ben@office.test"),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			step(chromedp.Evaluate[string](`document.body.dataset.answered = "yes"`)),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("body:not([data-answered]) #signin-error")))
	}
	for i := 0; i < domain.FreeSignInFailures; i++ {
		submit("guess number " + string(rune('1'+i)))
	}
	if msg := text(t, tab, "#signin-error"); msg != "The email address or the password is wrong." {
		t.Fatalf("after %d failures: %q", domain.FreeSignInFailures, msg)
	}
	// The next attempt is refused before its password is even looked at.
	submit("another guess")
	if msg := text(t, tab, "#signin-error"); !strings.HasPrefix(msg, "Too many failed attempts. Wait ") {
		t.Fatalf("throttled attempt: %q", msg)
	}
	shot(t, tab, "throttled")
}

func TestFormsWithoutTheirCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	u, _ := a.user("carl@office.test", domain.RoleEditor)
	token, err := a.svc.Users.StartSession(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	session := &http.Cookie{Name: "clientreg_session", Value: token}
	for path, form := range map[string]string{
		"/signout":          "",
		"/account/password": "password=attacker+chosen+pw&password_again=attacker+chosen+pw",
		"/signin":           "email=carl%40office.test&password=x",
	} {
		if resp := a.post(path, session, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token: %d, want 403", path, resp.StatusCode)
		}
		if resp := a.post(path, session, form+"&csrf=forged"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with a forged CSRF token: %d, want 403", path, resp.StatusCode)
		}
	}
	if _, err := a.svc.Users.Session(context.Background(), token); err != nil {
		t.Errorf("the refused sign-out ended the session: %v", err)
	}
}
