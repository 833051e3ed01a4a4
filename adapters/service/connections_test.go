package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/adminpulse"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
)

// sleeps records the back-offs a run took instead of waiting them out.
type sleeps struct {
	mu  sync.Mutex
	all []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.all = append(s.all, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) atLeast(d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.all {
		if x >= d {
			return true
		}
	}
	return false
}

// testLogger discards logs unless TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startSyncApp is startApp with sources configured: AdminPulse on ap (nil:
// not configured), instant back-offs.
func startSyncApp(t *testing.T, ap *fakeAdminPulse) (*app, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	cfg := service.Config{
		DatabaseURL: pgtest.NewDatabaseURL(t),
		MasterKey:   []byte("0123456789abcdef0123456789abcdef"),
		Logger:      testLogger(),
		Sources:     service.SourcesConfig{Sleep: sl.sleep, AllowHTTPHosts: []string{"127.0.0.1"}},
	}
	if ap != nil {
		cfg.Sources.AdminPulse = adminpulse.Config{APIBaseURL: ap.URL + "/api", AuthURL: ap.URL + "/oauth/authorize",
			TokenURL: ap.URL + "/oauth/token", ClientID: "clientreg", ClientSecret: "s3cret",
			RedirectURL: "http://registry.test/v1/connections/oauth/callback", CallsPerMinute: 60000}
	}
	return startAppWith(t, cfg), sl
}

// connection returns the connection as GET /v1/connections shows it.
func (a *app) connection(tok, id string) map[string]any {
	a.t.Helper()
	for _, it := range a.do("GET", "/v1/connections", tok, nil).expect(a.t, 200).items() {
		if it["id"] == id {
			return it
		}
	}
	a.t.Fatalf("connection %s not listed", id)
	return nil
}

// waitRun waits for a finished run other than the one named prev.
func (a *app) waitRun(tok, id, prev string) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c := a.connection(tok, id)
		if run, ok := c["last_run"].(map[string]any); ok && run["id"] != prev && run["status"] != "running" {
			return run
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatalf("no run of %s finished in time", id)
	return nil
}

func counts(run map[string]any) map[string]int {
	out := map[string]int{}
	for k, v := range run["counts"].(map[string]any) {
		out[k] = int(v.(float64))
	}
	return out
}

// clientEvents counts the client events a sync run appended.
func (a *app) clientEvents(runID string) int {
	a.t.Helper()
	var n int
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events
		WHERE stream_type = 'client' AND metadata::jsonb->>'sync_run_id' = $1`, runID).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// findByEmail searches every client once the projections caught up.
func (a *app) findByEmail(tok, email string) []map[string]any {
	a.t.Helper()
	head := a.head()
	return a.do("GET", "/v1/clients?status=all&q="+url.QueryEscape(email)+"&min_position="+head, tok, nil).expect(a.t, 200).items()
}

func (a *app) head() string {
	var pos int64
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT coalesce(max("offset"), 0) FROM events`).Scan(&pos); err != nil {
		a.t.Fatal(err)
	}
	return fmt.Sprint(pos)
}

func relation(i int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("Peeters%04d", i), "firstName": "Jan", "email": fmt.Sprintf("jan%04d@example.be", i),
		"language": "NL", "phone": "+32 9 123 45 67", "city": "Gent", "country": "BE"}
}

// connectAdminPulse goes through the consent: POST, the provider's page
// (the test plays the office's browser), the callback.
func connectAdminPulse(t *testing.T, a *app, ap *fakeAdminPulse, tok string) string {
	t.Helper()
	res := a.do("POST", "/v1/connections", tok, map[string]any{"provider": "adminpulse"}).expect(t, 201)
	if res.str("status") != "pending_authorization" {
		t.Fatalf("status %q before consent", res.str("status"))
	}
	auth, err := url.Parse(res.str("authorization_url"))
	if err != nil || !strings.HasPrefix(res.str("authorization_url"), ap.URL+"/oauth/authorize") {
		t.Fatalf("authorization url %q", res.str("authorization_url"))
	}
	q := auth.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("client_id") != "clientreg" {
		t.Fatalf("authorization url lacks PKCE or state: %s", auth)
	}
	ap.mu.Lock()
	ap.challenge = q.Get("code_challenge")
	ap.mu.Unlock()
	// A forged state is refused.
	a.do("GET", "/v1/connections/oauth/callback?state=forged&code=good-code", "", nil).expect(t, 400)
	a.do("GET", "/v1/connections/oauth/callback?state="+url.QueryEscape(q.Get("state"))+"&code=good-code", "", nil).expect(t, 200)
	// A state works once.
	a.do("GET", "/v1/connections/oauth/callback?state="+url.QueryEscape(q.Get("state"))+"&code=good-code", "", nil).expect(t, 400)
	return res.str("id")
}

func TestAdminPulseSync(t *testing.T) {
	t.Parallel()
	ap := newFakeAdminPulse(t)
	a, sl := startSyncApp(t, ap)
	toks := a.tenant("office")
	admin := toks[domain.RoleAdmin]

	// Clients already in the registry: one typed with the email of
	// relation 2, one with the enterprise number of relation 3 (another
	// email), as an Excel import or an editor would have left them.
	byEmail := a.do("POST", "/v1/clients", admin, map[string]any{"first_name": "Jan", "last_name": "Peeters0002",
		"email": "JAN0002@example.be", "display_name": "Jan (from Excel)"}).expect(t, 201).str("id")
	byVAT := a.do("POST", "/v1/clients", admin, map[string]any{"kind": "company", "company_name": "Old name NV",
		"email": "boekhouding@oldname.be", "vat_number": "BE0123.456.749"}).expect(t, 201).str("id")

	for i := 1; i <= 850; i++ {
		ap.set(fmt.Sprintf("R%04d", i), relation(i))
	}
	ap.set("R0003", map[string]any{"name": "New Name NV", "isCompany": true, "vatNumber": "0123456749", "email": "info@newname.be"})
	ap.set("R0004", map[string]any{"name": "No Mail", "firstName": "Piet"}) // no email: cannot be a client
	// The first run meets a 429, a token that expires mid-run and a
	// connection dropped mid-page.
	ap.mu.Lock()
	ap.fail[1] = []string{"429", "drop"}
	ap.fail[2] = []string{"401"}
	ap.mu.Unlock()

	// Only admins connect.
	a.do("POST", "/v1/connections", toks[domain.RoleEditor], map[string]any{"provider": "adminpulse"}).expect(t, 403)
	id := connectAdminPulse(t, a, ap, admin)
	run := a.waitRun(admin, id, "")
	if run["status"] != "completed" {
		t.Fatalf("first run: %v", run)
	}
	c := counts(run)
	if c["created"] != 847 || c["linked"] != 2 || c["errors"] != 1 || c["removed"] != 0 {
		t.Fatalf("first run counts %v", c)
	}
	ap.mu.Lock()
	refreshes := ap.refreshes
	ap.mu.Unlock()
	if !sl.atLeast(2*time.Second) || refreshes == 0 {
		t.Fatal("no back-off on 429 or no token refresh", refreshes)
	}
	if issues, _ := run["issues"].([]any); len(issues) != 1 || !strings.Contains(fmt.Sprint(issues[0]), "R0004") {
		t.Fatalf("issues %v", run["issues"])
	}
	// Linked, not duplicated; the registry's own fields stay, the source's follow.
	if found := a.findByEmail(admin, "jan0002@example.be"); len(found) != 1 || found[0]["id"] != byEmail ||
		found[0]["display_name"] != "Jan (from Excel)" || found[0]["language"] != "nl" {
		t.Fatalf("client matched by email: %v", found)
	}
	found := a.findByEmail(admin, "info@newname.be")
	if len(found) != 1 || found[0]["id"] != byVAT || found[0]["company_name"] != "New Name NV" ||
		fmt.Sprint(found[0]["external_refs"]) != "[map[external_id:R0003 source:adminpulse]]" {
		t.Fatalf("client matched by enterprise number: %v", found)
	}
	if n := a.clientEvents(run["id"].(string)); n < 849 {
		t.Fatalf("%d client events carry the run id", n)
	}
	conn := a.connection(admin, id)
	if conn["status"] != "active" || conn["sync_active"] != true || conn["next_run_at"] == nil {
		t.Fatalf("connection after the first run: %v", conn)
	}
	if strings.Contains(a.do("GET", "/v1/connections", admin, nil).raw, "access-") {
		t.Fatal("GET /v1/connections shows a token")
	}

	// A second run with nothing new appends no client event.
	ap.requestedPages()
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	second := a.waitRun(admin, id, run["id"].(string))
	if c := counts(second); second["status"] != "completed" || c["unchanged"] != 849 || c["created"]+c["updated"]+c["removed"] != 0 {
		t.Fatalf("second run: %v", second)
	}
	if n := a.clientEvents(second["id"].(string)); n != 0 {
		t.Fatalf("a run that found nothing new appended %d client events", n)
	}

	// At the source: one relation deleted, one changed; here: an editor
	// changes a field the source owns.
	ap.remove("R0010")
	rel := relation(11)
	rel["phone"] = "+32 9 999 99 99"
	ap.set("R0011", rel)
	edited := a.findByEmail(admin, "jan0012@example.be")[0]
	a.do("PATCH", "/v1/clients/"+edited["id"].(string), admin, map[string]any{"address": map[string]any{"city": "Brugge"}},
		"If-Match", fmt.Sprint(edited["version"])).expect(t, 200)
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	third := a.waitRun(admin, id, second["id"].(string))
	if c := counts(third); c["removed"] != 1 || c["updated"] != 2 || c["created"] != 0 {
		t.Fatalf("third run: %v", third)
	}
	removed := a.findByEmail(admin, "jan0010@example.be")
	if len(removed) != 1 || removed[0]["status"] != "active" || fmt.Sprint(removed[0]["removed_at_source"]) != "[adminpulse]" {
		t.Fatalf("client removed at source: %v", removed)
	}
	if got := a.findByEmail(admin, "jan0012@example.be")[0]["address"].(map[string]any)["city"]; got != "Gent" {
		t.Fatalf("local edit of a source-owned field not overwritten: %v", got)
	}
	if got := a.findByEmail(admin, "jan0011@example.be")[0]["phone"]; got != "+32 9 999 99 99" {
		t.Fatalf("changed phone: %v", got)
	}

	// A pull that fails half-way marks nothing removed and the next run
	// resumes after the last committed page.
	ap.remove("R0020")
	ap.mu.Lock()
	ap.failAlways[1] = "drop"
	ap.mu.Unlock()
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	failed := a.waitRun(admin, id, third["id"].(string))
	if failed["status"] != "failed" || !strings.Contains(a.connection(admin, id)["last_error"].(string), "could not reach AdminPulse") {
		t.Fatalf("failed run: %v / %v", failed, a.connection(admin, id)["last_error"])
	}
	if c := counts(failed); c["removed"] != 0 || c["unchanged"] != 399 || c["errors"] != 1 {
		t.Fatalf("partial pull counts %v", c)
	}
	ap.mu.Lock()
	delete(ap.failAlways, 1)
	ap.mu.Unlock()
	ap.requestedPages()
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	resumed := a.waitRun(admin, id, failed["id"].(string))
	if pages := ap.requestedPages(); resumed["status"] != "completed" || len(pages) == 0 || pages[0] != 1 {
		t.Fatalf("resumed run %v read pages %v", resumed, pages)
	}
	if c := counts(resumed); c["removed"] != 1 {
		t.Fatalf("resumed run counts %v", c)
	}
	if n := len(a.findByEmail(admin, "@example.be")); n == 0 {
		t.Fatal("clients vanished")
	}

	// Revoking stops syncs and forgets the tokens.
	a.do("DELETE", "/v1/connections/"+id, admin, nil).expect(t, 200)
	if c := a.connection(admin, id); c["status"] != "revoked" || c["sync_active"] != false {
		t.Fatalf("revoked connection: %v", c)
	}
	if code := a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 409).errorCode(); code != "connection_revoked" {
		t.Fatalf("sync of a revoked connection: %s", code)
	}
	history := a.do("GET", "/v1/connections/"+id+"/history", admin, nil).expect(t, 200)
	if raw := history.raw; !strings.Contains(raw, `"SyncCompleted"`) || !strings.Contains(raw, `"SourceDisconnected"`) || strings.Contains(raw, "access-") {
		t.Errorf("connection timeline: %s", raw)
	}
	var secrets []byte
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT secrets FROM connections WHERE id = $1`, id).Scan(&secrets); err != nil || secrets != nil {
		t.Fatalf("secrets kept after revoke: %v %v", secrets, err)
	}
	a.verify()
}

// TestAdminPulseByAPIKey: an office connects AdminPulse with an API key
// (the documentation's other way in): checked at once, no consent, the
// first sync starts; relations whose fields bear other names are read.
func TestAdminPulseByAPIKey(t *testing.T) {
	t.Parallel()
	ap := newFakeAdminPulse(t)
	ap.mu.Lock()
	ap.valid["office-api-key"] = 1000
	ap.mu.Unlock()
	ap.set("R1", map[string]any{"lastName": "Wouters", "firstName": "Els", "emailAddress": "els@example.be",
		"address": map[string]any{"street": "Kerkstraat", "number": "4", "zipCode": "9000", "city": "Gent"}})
	ap.set("R2", map[string]any{"type": "company", "companyName": "Bakkerij Wouters BV", "commercialName": "Bakkerij Els",
		"email": "info@bakkerij.be", "vatNumber": "BE0123.456.749"})
	a, _ := startSyncApp(t, ap)
	admin := a.tenant("office")[domain.RoleAdmin]

	res := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "adminpulse", "api_key": "not-a-key"}).expect(t, 422)
	if !strings.Contains(res.raw, `"field":"api_key"`) || strings.Contains(res.raw, "not-a-key") {
		t.Fatalf("wrong key: %s", res.raw)
	}
	res = a.do("POST", "/v1/connections", admin, map[string]any{"provider": "adminpulse", "api_key": "office-api-key"}).expect(t, 201)
	if res.str("status") != "active" || res.str("authorization_url") != "" {
		t.Fatalf("connected by key: %s", res.raw)
	}
	run := a.waitRun(admin, res.str("id"), "")
	if c := counts(run); run["status"] != "completed" || c["created"] != 2 || c["errors"] != 0 {
		t.Fatalf("run %v", run)
	}
	els := a.findByEmail(admin, "els@example.be")
	if len(els) != 1 || els[0]["last_name"] != "Wouters" || els[0]["address"].(map[string]any)["house_number"] != "4" {
		t.Fatalf("person: %v", els)
	}
	shop := a.findByEmail(admin, "info@bakkerij.be")
	if len(shop) != 1 || shop[0]["kind"] != "company" || shop[0]["company_name"] != "Bakkerij Wouters BV" || shop[0]["display_name"] != "Bakkerij Els" {
		t.Fatalf("company: %v", shop)
	}
	if strings.Contains(a.do("GET", "/v1/connections", admin, nil).raw, "office-api-key") {
		t.Fatal("the key is shown")
	}
}
