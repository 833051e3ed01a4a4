package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
)

// One Chromium serves the whole package; each test gets tabs in a browser
// context of its own (its own cookies), so tests run in parallel.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.cancel != nil {
		chrome.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds the browser scripts/chromium.sh installs.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: run scripts/chromium.sh (make test does) or set CHROMIUM_PATH")
}

func startChrome() {
	path, err := chromiumPath()
	if err != nil {
		chrome.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1366, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	chrome.ctx = browser
	chrome.cancel = func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(browser); err != nil {
		chrome.err = fmt.Errorf("start Chromium %s: %w", path, err)
	}
}

// newTab opens a tab in a fresh browser context; it fails the test (never
// skips it) when Chromium cannot run.
func newTab(t *testing.T) context.Context {
	t.Helper()
	chrome.once.Do(startChrome)
	if chrome.err != nil {
		t.Fatal(chrome.err)
	}
	tab, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}

// stepTimeout bounds a group of browser steps: generous, for a loaded
// machine running -race.
const stepTimeout = 45 * time.Second

// do runs browser steps with a deadline, failing the test on error.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shot(t, tab, "failure")
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, tab context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		shot(t, tab, "failure")
		t.Fatal(err)
	}
	return v
}

// text is the visible text of the first element matching a CSS selector.
func text(t *testing.T, tab context.Context, css string) string {
	t.Helper()
	return run(t, tab, chromedp.Text(chromedp.CSS(css)))
}

func location(t *testing.T, tab context.Context) string {
	t.Helper()
	return run(t, tab, chromedp.Location())
}

// shot saves a full-page PNG under testdata/out, named after the test.
func shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	saveShot(t, tab, name, chromedp.FullScreenshot(100))
}

// shotViewport saves what the window shows (a dialog over its page).
func shotViewport(t *testing.T, tab context.Context, name string) {
	t.Helper()
	saveShot(t, tab, name, chromedp.CaptureScreenshot())
}

func saveShot(t *testing.T, tab context.Context, name string, capture chromedp.Action[[]byte]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join("testdata", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// app is one running registry (API, console, projectors) on a fresh
// database.
type app struct {
	t        *testing.T
	base     string
	svc      *service.Service
	tenantID uuid.UUID
	token    string // the tenant's admin API token
}

func startApp(t *testing.T) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// A small pool: the server's connections are shared by every test
	// process of the machine.
	dbURL := pgtest.NewDatabaseURL(t)
	if strings.Contains(dbURL, "?") {
		dbURL += "&pool_max_conns=10"
	} else {
		dbURL += "?pool_max_conns=10"
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: dbURL,
		MasterKey:   []byte("0123456789abcdef0123456789abcdef"),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		// The sources' stand-ins listen on the loopback over plain http.
		Sources: service.SourcesConfig{AllowHTTPHosts: []string{"127.0.0.1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A page after a command waits for its own write as long as await does.
	svc.Console.ReadYourWritesTimeout = 30 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		svc.Close()
	})
	a := &app{t: t, base: "http://" + ln.Addr().String(), svc: svc}
	if a.tenantID, a.token, err = svc.Tenants.Create(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	return a
}

// user adds a console user and returns their one-time password.
func (a *app) user(email, role string) (domain.User, string) {
	a.t.Helper()
	u, pw, err := a.svc.Users.Create(context.Background(), a.tenantID, email, role)
	if err != nil {
		a.t.Fatal(err)
	}
	return u, pw
}

// signedIn opens a tab already signed in as a user of role who has chosen
// their password (signing in through the form is TestSignIn's business).
func (a *app) signedIn(role string) context.Context {
	a.t.Helper()
	ctx := context.Background()
	u, _ := a.user(role+"@office.test", role)
	if err := a.svc.Users.SetPassword(ctx, u.ID, "a long enough password", ""); err != nil {
		a.t.Fatal(err)
	}
	token, err := a.svc.Users.StartSession(ctx, u.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	tab := newTab(a.t)
	httpOnly := true
	if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{
		Name: "clientreg_session", Value: token, URL: a.base + "/", HTTPOnly: &httpOnly,
		SameSite: network.CookieSameSiteLax}); err != nil {
		a.t.Fatal(err)
	}
	return tab
}

// post sends a form as a script on another site could: no CSRF token.
func (a *app) post(path string, cookie *http.Cookie, form string) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// step turns an action with a result into a step of do.
func step[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// leaving marks the current page, so newPage can tell when the next one
// has loaded (a flash on the old page must not pass for the new one's).
func leaving() chromedp.Action[chromedp.Void] {
	return step(chromedp.Evaluate[bool](`document.documentElement.dataset.leaving = "1"; true`))
}

func newPage() chromedp.Action[chromedp.Void] {
	return until(`document.readyState === "complete" && !document.documentElement.dataset.leaving`)
}

// until evaluates a condition again and again until it holds, through the
// navigations that interrupt an evaluation.
func until(cond string) chromedp.Action[chromedp.Void] {
	eval := chromedp.Evaluate[bool](cond)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			if ok, err := eval(ctx, t); err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", cond, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
