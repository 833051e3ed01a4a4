package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

func customer(name, email string) map[string]any {
	return map[string]any{"Name": name, "Firstname": "An", "Email": email, "Language": "F", "IsCompany": false,
		"CommercialName": "", "VATNr": "", "Phone": "", "Mobile": "0470 00 00 00"}
}

// address is a head office as /customeraddresses gives it: Street1 holds
// the number, StreetName does not.
func address(street, nr, zip, city string) map[string]any {
	return map[string]any{"RegisteredOffice": true, "InvoiceAddress": false, "PostalAddress": false, "ExploitationAddress": false,
		"Street1": street + " " + nr, "StreetName": street, "HouseNr": nr, "HouseBox": "", "Street2": "",
		"ZipCode": zip, "City": city, "CountryCode": "BE", "CountryId": 21}
}

func TestAdminISConsultSync(t *testing.T) {
	t.Parallel()
	sy := newFakeSyneton(t, "key-123")
	a, sl := startSyncApp(t, nil)
	admin := a.tenant("office")[domain.RoleAdmin]

	// A wrong key or URL is a clear 422 at connect time.
	res := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult", "base_url": sy.URL, "api_key": "wrong"}).expect(t, 422)
	if !strings.Contains(res.raw, `"field":"api_key"`) || strings.Contains(res.raw, "wrong") {
		t.Fatalf("wrong key: %s", res.raw)
	}
	res = a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult", "base_url": "http://127.0.0.1:1", "api_key": "key-123"}).expect(t, 422)
	if !strings.Contains(res.raw, `"field":"base_url"`) || strings.Contains(res.raw, "key-123") {
		t.Fatalf("wrong URL: %s", res.raw)
	}

	// Customers 1-4 with a head office (1 also with an invoice address
	// listed first), 5 without any, 6 a company without any: the page of 5
	// and 6 finds no address (404 "Nothing found").
	for i := 1; i <= 5; i++ {
		var addrs []map[string]any
		if i == 1 {
			inv := address("Quai", "9", "4000", "Liège")
			inv["RegisteredOffice"], inv["InvoiceAddress"] = false, true
			addrs = append(addrs, inv)
		}
		if i < 5 {
			addrs = append(addrs, address("Rue Haute", "12", "5000", "Namur"))
		}
		sy.put(i, customer(fmt.Sprintf("Dubois%d", i), fmt.Sprintf("an%d@example.be", i)), addrs...)
	}
	sy.put(6, map[string]any{"Name": "Garage Dubois SRL", "IsCompany": true, "CommercialName": "Garage Dubois",
		"VATNr": "BE 0123.456.749", "Email": "garage@example.be", "Phone": "081 22 33 44", "Language": "F"})
	// The office's log before the connection: never read again.
	sy.history(2, 2500)
	historyHead := sy.head()
	sy.mu.Lock()
	sy.throttle = 1 // the first call after login is throttled
	sy.tokenUses = 6
	// A customer changes while the listing runs: the feed after the
	// listing brings it.
	sy.onListPage = func(page int) {
		if page == 2 {
			sy.customers[1]["Email"] = "an1.new@example.be"
			sy.record(1, 1, "CUSTOMER", "UPDATE")
		}
	}
	sy.mu.Unlock()

	id := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult", "base_url": sy.URL + "/", "api_key": "key-123"}).
		expect(t, 201).str("id")
	if raw := a.do("GET", "/v1/connections", admin, nil).raw; strings.Contains(raw, "key-123") {
		t.Fatal("the API key is shown")
	}
	first := a.waitRun(admin, id, "")
	if c := counts(first); first["status"] != "completed" || c["created"] != 6 || c["errors"] != 0 {
		t.Fatalf("first run %v", first)
	}
	sy.mu.Lock()
	logins, throttled, feedFrom := sy.logins, sy.throttled, sy.feedFrom
	sy.onListPage = nil
	sy.mu.Unlock()
	// Token renewed mid-run; the throttled call waited a minute.
	if throttled != 1 || logins < 3 || !sl.atLeast(time.Minute) {
		t.Fatalf("throttled %d, logins %d, sleeps %v", throttled, logins, sl.all)
	}
	for _, from := range feedFrom {
		if from <= historyHead {
			t.Fatalf("the feed was read from LogId %d, before the connection (head %d): %v", from, historyHead, feedFrom)
		}
	}
	garage := a.findByEmail(admin, "garage@example.be")
	if len(garage) != 1 || garage[0]["kind"] != "company" || garage[0]["company_name"] != "Garage Dubois SRL" ||
		garage[0]["vat_number"] != "0123456749" || garage[0]["display_name"] != "Garage Dubois" {
		t.Fatalf("company mapping: %v", garage)
	}
	an := a.findByEmail(admin, "an1.new@example.be")
	if len(an) != 1 || an[0]["language"] != "fr" || an[0]["last_name"] != "Dubois1" || an[0]["phone"] == nil {
		t.Fatalf("person mapping, or the change made during the listing: %v", an)
	}
	if addr := an[0]["address"].(map[string]any); addr["city"] != "Namur" || addr["street"] != "Rue Haute" || addr["house_number"] != "12" {
		t.Fatalf("head office: %v", addr)
	}

	// The feed: an email change, a deactivation, an address row deleted
	// (its customer stays), a customer deleted, a new one, and an entry
	// naming no customer.
	sy.update(2, map[string]any{"Email": "an2.new@example.be"})
	sy.update(4, map[string]any{"IsActive": false, "DisabledDate": "2026-03-01T00:00:00"})
	sy.deleteAddresses(1)
	sy.deleteCustomer(3)
	sy.put(7, customer("Martin", "martin@example.be"), address("Kerkstraat", "1", "9000", "Gent"))
	sy.history(0, 0)
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	second := a.waitRun(admin, id, first["id"].(string))
	if c := counts(second); second["status"] != "completed" || c["created"] != 1 || c["updated"] != 1 || c["removed"] != 2 || c["errors"] != 0 {
		t.Fatalf("change feed run %v", second)
	}
	if got := a.findByEmail(admin, "an2.new@example.be"); len(got) != 1 || got[0]["last_name"] != "Dubois2" {
		t.Fatalf("email change: %v", got)
	}
	for _, email := range []string{"an3@example.be", "an4@example.be"} {
		if got := a.findByEmail(admin, email); len(got) != 1 || got[0]["status"] != "active" || fmt.Sprint(got[0]["removed_at_source"]) != "[admin-is-consult]" {
			t.Fatalf("%s deleted or deactivated at source: %v", email, got)
		}
	}
	if got := a.findByEmail(admin, "an1.new@example.be"); len(got) != 1 || fmt.Sprint(got[0]["removed_at_source"]) != "[]" {
		t.Fatalf("an address row deleted flagged its customer: %v", got)
	}

	// Active again: flagged back.
	sy.update(4, map[string]any{"IsActive": true})
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	third := a.waitRun(admin, id, second["id"].(string))
	if got := a.findByEmail(admin, "an4@example.be"); counts(third)["updated"] != 1 || len(got) != 1 || fmt.Sprint(got[0]["removed_at_source"]) != "[]" {
		t.Fatalf("reactivated: %v %v", third, got)
	}

	// Nothing new (the feed answers 204): no client events.
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 202)
	fourth := a.waitRun(admin, id, third["id"].(string))
	if n := a.clientEvents(fourth["id"].(string)); fourth["status"] != "completed" || n != 0 {
		t.Fatalf("idle run %v appended %d client events", fourth, n)
	}

	// One run at a time, across instances: while a run holds the lock,
	// another one does not start.
	err := a.svc.Connections.WithRunLock(context.Background(), uuid.MustParse(id), func(ctx context.Context) error {
		return a.svc.ConnectionCmds.Run.RunDue(ctx, uuid.MustParse(a.tenantID(admin)), uuid.MustParse(id))
	})
	if !errors.Is(err, domain.ErrSyncAlreadyRunning) {
		t.Fatalf("second run while one holds the lock: %v", err)
	}
	a.verify()
}

func (a *app) tenantID(token string) string {
	a.t.Helper()
	p, err := a.svc.Tenants.Authenticate(context.Background(), token)
	if err != nil {
		a.t.Fatal(err)
	}
	return p.TenantID.String()
}

// push sends a signed ERP request; ts "" means now.
func (a *app) push(method, connID, extID, secret, ts string, body any) response {
	a.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	if ts == "" {
		ts = strconv.FormatInt(time.Now().Unix(), 10)
	}
	path := "/v1/sources/" + connID + "/clients/" + extID
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(raw))
	req.Header.Set("X-Clientreg-Timestamp", ts)
	req.Header.Set("X-Clientreg-Signature", commands.SignPush(secret, ts, method, path, raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(out)}
	_ = json.Unmarshal(out, &r.body)
	return r
}

func TestERPPush(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	admin := a.tenant("office")[domain.RoleAdmin]
	existing := a.do("POST", "/v1/clients", admin, map[string]any{"first_name": "Els", "last_name": "Claes", "email": "els@example.be"}).
		expect(t, 201).str("id")

	res := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "erp"}).expect(t, 201)
	id, secret := res.str("id"), res.str("secret")
	if len(secret) < 40 || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("secret %q", secret)
	}
	if strings.Contains(a.do("GET", "/v1/connections", admin, nil).raw, secret) {
		t.Fatal("the secret is shown again")
	}
	var leaked int
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'`, secret).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("secret in the log: %d %v", leaked, err)
	}

	v1 := map[string]any{"first_name": "Els", "last_name": "Claes", "email": "ELS@example.be", "phone": "+32 3 111 22 33",
		"updated_at": "2026-11-20T10:00:00Z"}
	earlier := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	if r := a.push("PUT", id, "K-1", secret, earlier, v1).expect(t, 200); r.str("outcome") != "linked" || r.str("client_id") != existing {
		t.Fatalf("first push: %s", r.raw)
	}
	// The same version again (re-signed): idempotent.
	if r := a.push("PUT", id, "K-1", secret, "", v1).expect(t, 200); r.str("outcome") != "unchanged" {
		t.Fatalf("same push again: %s", r.raw)
	}
	// An older version is ignored.
	old := map[string]any{"first_name": "Els", "last_name": "Claes", "email": "els@example.be", "phone": "+32 3 999 99 99",
		"updated_at": "2026-11-19T10:00:00Z"}
	if r := a.push("PUT", id, "K-1", secret, "", old).expect(t, 200); r.str("outcome") != "ignored_older" {
		t.Fatalf("older push: %s", r.raw)
	}
	if got := a.findByEmail(admin, "els@example.be"); len(got) != 1 || got[0]["phone"] != "+32 3 111 22 33" {
		t.Fatalf("after the older push: %v", got)
	}
	// Bad signature, stale timestamp, replay: 401, nothing applied.
	req := map[string]any{"first_name": "Jos", "last_name": "Wouters", "email": "jos@example.be"}
	if r := a.push("PUT", id, "K-2", "not-the-secret", "", req).expect(t, 401); r.errorCode() != "push_unauthenticated" {
		t.Fatalf("bad signature: %s", r.raw)
	}
	stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
	a.push("PUT", id, "K-2", secret, stale, req).expect(t, 401)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	created := a.push("PUT", id, "K-2", secret, ts, req).expect(t, 200)
	if created.str("outcome") != "created" {
		t.Fatalf("new client: %s", created.raw)
	}
	if r := a.push("PUT", id, "K-2", secret, ts, req).expect(t, 401); !strings.Contains(r.raw, "replayed") {
		t.Fatalf("replay: %s", r.raw)
	}
	// A body signed for one client cannot be sent for another.
	raw, _ := json.Marshal(req)
	forged, _ := http.NewRequest("PUT", a.base+"/v1/sources/"+id+"/clients/K-3", bytes.NewReader(raw))
	forged.Header.Set("X-Clientreg-Timestamp", ts)
	forged.Header.Set("X-Clientreg-Signature", commands.SignPush(secret, ts, "PUT", "/v1/sources/"+id+"/clients/K-2", raw))
	if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != 401 {
		t.Fatalf("signature moved to another path: %v %v", resp.StatusCode, err)
	}
	// DELETE flags the client removed at source; it stays.
	if r := a.push("DELETE", id, "K-2", secret, "", nil).expect(t, 200); r.str("outcome") != "removed" {
		t.Fatalf("delete: %s", r.raw)
	}
	if got := a.findByEmail(admin, "jos@example.be"); len(got) != 1 || got[0]["status"] != "active" || fmt.Sprint(got[0]["removed_at_source"]) != "[erp]" {
		t.Fatalf("after delete: %v", got)
	}
	// ERP connections are not pulled.
	a.do("POST", "/v1/connections/"+id+"/sync", admin, nil).expect(t, 409)
	// Revoked: pushes stop.
	a.do("DELETE", "/v1/connections/"+id, admin, nil).expect(t, 200)
	a.push("PUT", id, "K-4", secret, "", req).expect(t, 401)
	a.verify()
}

// TestOneRunAtATimeAcrossInstances: two registries on one database asked
// to run the same due connection at the same moment run it once.
func TestOneRunAtATimeAcrossInstances(t *testing.T) {
	t.Parallel()
	sy := newFakeSyneton(t, "key-1")
	for i := 1; i <= 4; i++ {
		sy.put(i, customer(fmt.Sprintf("Lambert%d", i), fmt.Sprintf("l%d@example.be", i)))
	}
	a, _ := startSyncApp(t, nil)
	admin := a.tenant("office")[domain.RoleAdmin]
	id := uuid.MustParse(a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult", "base_url": sy.URL, "api_key": "key-1"}).
		expect(t, 201).str("id"))
	first := a.waitRun(admin, id.String(), "")

	// A second instance on the same database (no scheduler of its own
	// running: the test starts the runs itself).
	ctx := context.Background()
	other, err := service.New(ctx, service.Config{DatabaseURL: a.svc.Pool.Config().ConnString(), MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: testLogger(), Sources: service.SourcesConfig{AllowHTTPHosts: []string{"127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tenant := uuid.MustParse(a.tenantID(admin))
	countStarts := func() int {
		var n int
		if err := a.svc.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'SyncStarted'`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countStarts()
	if err := other.Connections.ScheduleNow(ctx, tenant, id); err != nil {
		t.Fatal(err)
	}
	sy.put(5, customer("Lambert5", "l5@example.be"))
	errs := make(chan error, 2)
	for _, svc := range []*service.Service{a.svc, other} {
		go func() { errs <- svc.ConnectionCmds.Run.RunDue(ctx, tenant, id) }()
	}
	for range 2 {
		if err := <-errs; err != nil && !errors.Is(err, domain.ErrSyncAlreadyRunning) {
			t.Fatal(err)
		}
	}
	if n := countStarts() - before; n != 1 {
		t.Fatalf("%d runs started, want 1", n)
	}
	if run := a.waitRun(admin, id.String(), first["id"].(string)); counts(run)["created"] != 1 {
		t.Fatalf("run %v", run)
	}
}
