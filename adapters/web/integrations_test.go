package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

// synetonStandIn answers as Admin IS | Consult does (see
// adapters/syneton): a token for the key, the API settings, two customers,
// no addresses, an empty change feed.
func synetonStandIn(t *testing.T, apiKey string) *httptest.Server {
	t.Helper()
	write := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("synetonToken") != "token-of-"+apiKey {
				w.WriteHeader(http.StatusUnauthorized)
				write(w, map[string]any{"ErrorMessage": "Token is expired"})
				return
			}
			h(w, r)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/token/{key}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("key") != apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			write(w, map[string]any{"ErrorMessage": "No valid configuration for token"})
			return
		}
		write(w, map[string]any{"TokenGuid": "token-of-" + apiKey, "TimeToLive": time.Now().Add(20 * time.Minute).Format("2006-01-02T15:04:05.0000000")})
	})
	mux.HandleFunc("GET /api/v1/apisettings", authed(func(w http.ResponseWriter, r *http.Request) {
		write(w, map[string]any{"DefaultRecordsPerPage": 50, "MaxRecordsPerPage": 100, "DurationToken": 20, "RateLimit": 6000})
	}))
	mux.HandleFunc("GET /api/v1/customers", authed(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") > "1" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var out []map[string]any
		for i, name := range []string{"Lambert", "Martens"} {
			out = append(out, map[string]any{"CustomerId": 101 + i, "Name": name, "Firstname": "An", "Email": strings.ToLower(name) + "@example.be",
				"Language": "N", "IsCompany": false, "CommercialName": "", "VATNr": "", "Phone": "", "Mobile": ""})
		}
		write(w, out)
	}))
	mux.HandleFunc("GET /api/v1/customeraddresses", authed(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		write(w, map[string]any{"ErrorMessage": "Nothing found"})
	}))
	mux.HandleFunc("GET /api/v1/customer/changes", authed(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestConnectAdminISConsultAndSeeSyncActive(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	standIn := synetonStandIn(t, "key-123")
	tab := a.signedIn(domain.RoleAdmin)
	card := `section[aria-labelledby="int-admin-is-consult"]`

	do(t, tab, chromedp.Navigate(a.base+"/clients"), leaving(),
		chromedp.Click(chromedp.CSS(`nav a[href="/settings/integrations"]`)), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#admin-is-consult-url")))
	if got := text(t, tab, card+" .card-head"); !strings.Contains(got, "Not connected") {
		t.Errorf("before connecting: %q", got)
	}

	// A wrong key is refused at once, the address kept.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#admin-is-consult-url"), standIn.URL),
		chromedp.SendKeys(chromedp.CSS("#admin-is-consult-key"), "wrong-key"), leaving(),
		chromedp.Click(chromedp.CSS(card+" button[type=submit]")), newPage())
	if got := text(t, tab, "#admin-is-consult-key-error"); !strings.Contains(strings.ToLower(got), "key") {
		t.Errorf("wrong key: %q", got)
	}
	if got := run(t, tab, chromedp.Value(chromedp.CSS("#admin-is-consult-url"))); got != standIn.URL {
		t.Errorf("address kept as %q", got)
	}

	do(t, tab, chromedp.SendKeys(chromedp.CSS("#admin-is-consult-key"), "key-123"), leaving(),
		chromedp.Click(chromedp.CSS(card+" button[type=submit]")), newPage())
	if got := text(t, tab, ".flash"); got != "Connected. The first sync has started." {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, tab, card+" [data-sync-active]"); got != "Sync active" {
		t.Errorf("indicator %q", got)
	}
	// The first run brings the two customers in.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := text(t, tab, card+" .details")
		if strings.Contains(got, "completed") && strings.Contains(got, "2 created") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run did not complete: %q", got)
		}
		time.Sleep(300 * time.Millisecond)
		do(t, tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(card)))
	}
	shot(t, tab, "sync-active")

	// The ERP's secret is shown once.
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(`section[aria-labelledby="int-erp"] button[type=submit]`)), newPage())
	if got := text(t, tab, "#erp-secret"); len(got) < 20 {
		t.Errorf("ERP secret %q", got)
	}
	do(t, tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`section[aria-labelledby="int-erp"] [data-sync-active]`)))
	if n := run(t, tab, chromedp.Evaluate[int](`document.querySelectorAll("#erp-secret").length`)); n != 0 {
		t.Error("the ERP secret is shown again")
	}

	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(card+` form[action$="/sync"] button`)), newPage())
	if got := text(t, tab, ".flash"); got != "A sync starts in a moment." && got != "A sync is running already." {
		t.Errorf("sync now: %q", got)
	}
	do(t, tab, chromedp.Click(chromedp.CSS(card+" [data-dialog]")), chromedp.WaitVisible(chromedp.CSS(card+" dialog")), leaving(),
		chromedp.Click(chromedp.CSS(card+" dialog .btn-danger")), newPage())
	if got := text(t, tab, card+" .card-head"); !strings.Contains(got, "Not connected") {
		t.Errorf("after disconnecting: %q", got)
	}
}
