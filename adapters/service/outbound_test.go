package service_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
)

// connectMessage connects Admin IS | Consult at baseURL and returns the
// refusal's message for base_url, with the address itself cut out.
func connectMessage(t *testing.T, a *app, admin, baseURL, key string) string {
	t.Helper()
	res := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult", "base_url": baseURL, "api_key": key}).expect(t, 422)
	if strings.Contains(res.raw, key) {
		t.Fatalf("%s: the key is in the answer: %s", baseURL, res.raw)
	}
	var body struct {
		Error struct {
			Details []struct{ Field, Code, Message string } `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.raw), &body); err != nil || len(body.Error.Details) != 1 || body.Error.Details[0].Field != "base_url" {
		t.Fatalf("%s: %s", baseURL, res.raw)
	}
	return strings.ReplaceAll(body.Error.Details[0].Message, baseURL, "<address>")
}

// TestConnectionsCannotReachInside: with no host allowlisted, an address on
// loopback is refused whether a server listens there or not, with the same
// words (no port oracle), and no request reaches it; plain http is refused
// before any call. Only loopback servers this test starts are involved.
func TestConnectionsCannotReachInside(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	inside := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"TokenGuid":"g","TimeToLive":"2999-01-01T00:00:00"}`))
	}))
	// Any connection accepted counts, before TLS or HTTP.
	inside.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			hits.Add(1)
		}
	}
	inside.StartTLS()
	defer inside.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := strings.Replace(closed.URL, "http://", "https://", 1)
	closed.Close()
	port := inside.URL[strings.LastIndex(inside.URL, ":"):]

	a := startAppWith(t, service.Config{DatabaseURL: pgtest.NewDatabaseURL(t), MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: testLogger(), Sources: service.SourcesConfig{}}) // no host allowlisted
	admin := a.tenant("office")[domain.RoleAdmin]

	if msg := connectMessage(t, a, admin, "http://127.0.0.1"+port, "key-plain"); !strings.Contains(msg, "https://") {
		t.Fatalf("plain http: %s", msg)
	}
	open := connectMessage(t, a, admin, inside.URL, "key-open")
	for _, u := range []string{closedURL, "https://localhost" + port, "https://[::1]" + port, "https://0.0.0.0" + port} {
		if msg := connectMessage(t, a, admin, u, "key-other"); msg != open {
			t.Fatalf("%s answered %q, the open port %q", u, msg, open)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the loopback server", n)
	}
	var leaked int
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE payload::text LIKE '%key-%'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("a key in the log: %d %v", leaked, err)
	}
}

// TestNoRedirectToAnotherHost: an allowlisted server that redirects the
// login to another server is not followed.
func TestNoRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	a, _ := startSyncApp(t, nil)
	admin := a.tenant("office")[domain.RoleAdmin]
	if msg := connectMessage(t, a, admin, srv.URL, "key-redirected"); !strings.Contains(msg, "could not connect") || elsewhere.Load() != 0 {
		t.Fatalf("redirect: %s, %d requests elsewhere", msg, elsewhere.Load())
	}
}
