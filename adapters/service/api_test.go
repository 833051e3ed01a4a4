package service_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// app is one running registry (API and projectors) on a fresh database.
type app struct {
	t    *testing.T
	base string
	svc  *service.Service
}

func startApp(t *testing.T) *app {
	t.Helper()
	return startAppWith(t, service.Config{
		DatabaseURL: pgtest.NewDatabaseURL(t),
		MasterKey:   []byte("0123456789abcdef0123456789abcdef"),
		Logger:      testLogger(),
	})
}

// startAppWith serves a registry built from cfg on a loopback port until
// the test ends.
func startAppWith(t *testing.T, cfg service.Config) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The tests read their own writes on a machine that may be running much
	// else: a projector a few seconds behind is slow there, not wrong.
	svc.API.ReadYourWritesTimeout = 30 * time.Second
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
	return &app{t: t, base: "http://" + ln.Addr().String(), svc: svc}
}

// tenant creates a tenant and returns tokens per role.
func (a *app) tenant(name string) map[string]string {
	a.t.Helper()
	ctx := context.Background()
	_, admin, err := a.svc.Tenants.Create(ctx, name)
	if err != nil {
		a.t.Fatal(err)
	}
	tokens := map[string]string{domain.RoleAdmin: admin}
	for _, role := range []string{domain.RoleEditor, domain.RoleViewer} {
		if tokens[role], err = a.svc.Tenants.CreateToken(ctx, name, role); err != nil {
			a.t.Fatal(err)
		}
	}
	return tokens
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a *app) do(method, path, token string, body any, headers ...string) response {
	a.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		reader = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.base+path, reader)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func (r response) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	if f, ok := v.(float64); ok {
		return fmt.Sprint(int64(f))
	}
	s, _ := v.(string)
	return s
}

func (r response) errorCode() string { return r.str("error", "code") }

func (r response) items() []map[string]any {
	list, _ := r.body["items"].([]any)
	out := make([]map[string]any, len(list))
	for i, it := range list {
		out[i], _ = it.(map[string]any)
	}
	return out
}

func marie(email string) map[string]any {
	return map[string]any{"first_name": "Marie", "last_name": "Dupont", "email": email, "language": "FR",
		"vat_number": "BE0123.456.749", "company_name": "Dupont Conseil", "address": map[string]any{"city": "Namur", "country": "be"}}
}

func TestClientLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]

	created := a.do("POST", "/v1/clients", tok, marie("Marie.Dupont@example.be")).expect(t, 201)
	id, pos := created.str("id"), created.str("position")
	if created.str("version") != "1" || pos == "" || pos == "0" {
		t.Fatalf("register answer %s", created.raw)
	}

	got := a.do("GET", "/v1/clients/"+id+"?min_position="+pos, tok, nil).expect(t, 200)
	if got.str("language") != "fr" || got.str("vat_number") != "0123456749" || got.str("address", "country") != "BE" {
		t.Fatalf("stored client not normalised: %s", got.raw)
	}
	if got.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", got.header.Get("ETag"))
	}

	for _, q := range []string{"dupont", "MARIE.dupont@", "conseil", "BE0123.456.749", "0123456749"} {
		page := a.do("GET", "/v1/clients?q="+q, tok, nil).expect(t, 200)
		if len(page.items()) != 1 {
			t.Errorf("search %q found %d clients, want 1", q, len(page.items()))
		}
	}
	if n := len(a.do("GET", "/v1/clients?q=nobody", tok, nil).items()); n != 0 {
		t.Errorf("search for nobody found %d", n)
	}

	// Edits need the version that was read.
	a.do("PATCH", "/v1/clients/"+id, tok, map[string]any{"phone": "+32 81 22 33 44"}).expect(t, 428)
	edited := a.do("PATCH", "/v1/clients/"+id, tok, map[string]any{"phone": "+32 81 22 33 44"}, "If-Match", "1").expect(t, 200)
	if edited.str("version") != "2" {
		t.Fatalf("edit answer %s", edited.raw)
	}
	stale := a.do("PATCH", "/v1/clients/"+id, tok, map[string]any{"phone": "+32 81 00 00 00"}, "If-Match", "1").expect(t, 409)
	if stale.errorCode() != "version_conflict" || stale.str("error", "details", "current_version") != "2" {
		t.Fatalf("stale edit answer %s", stale.raw)
	}

	deleted := a.do("DELETE", "/v1/clients/"+id, tok, map[string]any{"reason": "left the firm"}).expect(t, 200)
	active := a.do("GET", "/v1/clients?min_position="+deleted.str("position"), tok, nil).expect(t, 200)
	if len(active.items()) != 0 {
		t.Fatalf("deleted client still listed as active: %s", active.raw)
	}
	if n := len(a.do("GET", "/v1/clients?status=deleted", tok, nil).items()); n != 1 {
		t.Fatalf("deleted clients listed: %d", n)
	}
	a.do("DELETE", "/v1/clients/"+id, tok, nil).expect(t, 409)
	restored := a.do("POST", "/v1/clients/"+id+"/restore", tok, nil).expect(t, 200)
	back := a.do("GET", "/v1/clients/"+id+"?min_position="+restored.str("position"), tok, nil).expect(t, 200)
	if back.str("status") != "active" || back.str("phone") != "+32 81 22 33 44" || back.str("version") != "4" {
		t.Fatalf("restored client %s", back.raw)
	}
	a.verify()
}

func TestIdempotentRetryHasNoSecondEffect(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]
	body := marie("once@example.be")
	first := a.do("POST", "/v1/clients", tok, body, "Idempotency-Key", "k-1").expect(t, 201)
	again := a.do("POST", "/v1/clients", tok, body, "Idempotency-Key", "k-1").expect(t, 201)
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") != `"1"` {
		t.Fatalf("retry answered %s %v, first %s %v", again.raw, again.header, first.raw, first.header)
	}
	var events int
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&events); err != nil || events != 1 {
		t.Fatalf("events after retry = %d (%v), want 1", events, err)
	}
	other := a.do("POST", "/v1/clients", tok, marie("other@example.be"), "Idempotency-Key", "k-1").expect(t, 422)
	if other.errorCode() != "idempotency_key_reused" {
		t.Fatalf("reused key answer %s", other.raw)
	}

	// A refused request changes nothing; its key stays usable for the fix.
	bad := marie("not-an-email")
	a.do("POST", "/v1/clients", tok, bad, "Idempotency-Key", "k-2").expect(t, 422)
	a.do("POST", "/v1/clients", tok, marie("fixed@example.be"), "Idempotency-Key", "k-2").expect(t, 201)
}

func TestTenantsAreIsolatedAndRolesEnforced(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	acme := a.tenant("acme")
	globex := a.tenant("globex")

	created := a.do("POST", "/v1/clients", acme[domain.RoleEditor], marie("iso@example.be")).expect(t, 201)
	id := created.str("id")
	a.do("GET", "/v1/clients/"+id+"?min_position="+created.str("position"), acme[domain.RoleViewer], nil).expect(t, 200)
	a.do("GET", "/v1/clients/"+id, globex[domain.RoleAdmin], nil).expect(t, 404)
	a.do("PATCH", "/v1/clients/"+id, globex[domain.RoleAdmin], map[string]any{"phone": "+3281223344"}, "If-Match", "1").expect(t, 404)
	a.do("DELETE", "/v1/clients/"+id, globex[domain.RoleAdmin], nil).expect(t, 404)
	if n := len(a.do("GET", "/v1/clients?status=all", globex[domain.RoleAdmin], nil).items()); n != 0 {
		t.Fatalf("other tenant sees %d clients", n)
	}
	// The same email is free in another tenant.
	a.do("POST", "/v1/clients", globex[domain.RoleEditor], marie("iso@example.be")).expect(t, 201)

	if r := a.do("POST", "/v1/clients", acme[domain.RoleViewer], marie("v@example.be")).expect(t, 403); r.errorCode() != "forbidden" {
		t.Fatalf("viewer write: %s", r.raw)
	}
	a.do("POST", "/v1/custom-fields", acme[domain.RoleEditor], map[string]any{"name": "segment", "type": "text"}).expect(t, 403)
	a.do("GET", "/v1/clients", "", nil).expect(t, 401)
	if r := a.do("GET", "/v1/clients", "crt_not-a-token", nil).expect(t, 401); r.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

func TestValidationErrorsNameTheField(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("acme")
	tok := tokens[domain.RoleEditor]
	a.do("POST", "/v1/custom-fields", tokens[domain.RoleAdmin], map[string]any{"name": "employees", "type": "number"}).expect(t, 201)
	a.do("POST", "/v1/custom-fields", tokens[domain.RoleAdmin], map[string]any{"name": "segment", "type": "choice", "options": []string{"A", "B"}}).expect(t, 201)

	long := strings.Repeat("é", 256)
	cases := []struct {
		name  string
		patch map[string]any
		field string
		code  string
	}{
		{"invalid email", map[string]any{"email": "marie@"}, "email", "invalid_email"},
		{"missing email", map[string]any{"email": ""}, "email", "required"},
		{"unknown language", map[string]any{"language": "xx"}, "language", "unknown_language"},
		{"vat check digits", map[string]any{"vat_number": "BE0123.456.748"}, "vat_number", "invalid_vat_check_digits"},
		{"text over 255", map[string]any{"last_name": long}, "last_name", "too_long"},
		{"unknown custom field", map[string]any{"custom_fields": map[string]string{"shoe_size": "42"}}, "custom_fields.shoe_size", "unknown_custom_field"},
		{"custom number", map[string]any{"custom_fields": map[string]string{"employees": "many"}}, "custom_fields.employees", "invalid_number"},
		{"custom choice", map[string]any{"custom_fields": map[string]string{"segment": "C"}}, "custom_fields.segment", "invalid_choice"},
		{"company without name", map[string]any{"kind": "company", "company_name": ""}, "company_name", "required"},
	}
	for _, tc := range cases {
		body := marie("valid@example.be")
		for k, v := range tc.patch {
			body[k] = v
		}
		r := a.do("POST", "/v1/clients", tok, body).expect(t, 422)
		details, _ := r.body["error"].(map[string]any)["details"].([]any)
		found := false
		for _, d := range details {
			m := d.(map[string]any)
			found = found || (m["field"] == tc.field && m["code"] == tc.code && m["message"] != "")
		}
		if r.errorCode() != "validation_failed" || !found {
			t.Errorf("%s: want %s/%s in %s", tc.name, tc.field, tc.code, r.raw)
		}
	}
	if n := len(a.do("GET", "/v1/clients?status=all", tok, nil).items()); n != 0 {
		t.Fatalf("a rejected command left %d clients behind", n)
	}
	var events int
	_ = a.svc.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type = 'client'`).Scan(&events)
	if events != 0 {
		t.Fatalf("rejected commands appended %d client events", events)
	}

	ok := a.do("POST", "/v1/clients", tok, map[string]any{"kind": "company", "company_name": "Globex", "email": "info@globex.be",
		"custom_fields": map[string]string{"employees": "1 250,5", "segment": "b"}}).expect(t, 201)
	c := a.do("GET", "/v1/clients/"+ok.str("id")+"?min_position="+ok.str("position"), tok, nil).expect(t, 200)
	if c.str("custom_fields", "employees") != "1250.5" || c.str("custom_fields", "segment") != "B" {
		t.Fatalf("custom values not normalised: %s", c.raw)
	}

	dup := a.do("POST", "/v1/clients", tok, marie("INFO@globex.be ")).expect(t, 409)
	if dup.errorCode() != "duplicate" || dup.str("error", "details", "field") != "email" {
		t.Fatalf("duplicate email answer %s", dup.raw)
	}
	a.do("POST", "/v1/clients", tok, `{"email": "x@example.be", "nickname": "x"}`).expect(t, 400)
	a.do("POST", "/v1/clients", tok, `{"email": `).expect(t, 400)
	huge := `{"first_name":"` + strings.Repeat("a", 2<<20) + `"}`
	a.do("POST", "/v1/clients", tok, huge).expect(t, 413)
}

func TestContactPersonsListsAndPaging(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]

	var ids []string
	for i, last := range []string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens"} {
		r := a.do("POST", "/v1/clients", tok, map[string]any{"first_name": "An", "last_name": last, "email": fmt.Sprintf("an%d@example.be", i)}).expect(t, 201)
		ids = append(ids, r.str("id"))
	}
	list := a.do("POST", "/v1/lists", tok, map[string]any{"name": "Newsletter"}).expect(t, 201)
	a.do("POST", "/v1/lists", tok, map[string]any{"name": "newsletter"}).expect(t, 409)
	listID := list.str("id")
	a.do("PUT", "/v1/clients/"+ids[0]+"/lists/"+listID, tok, nil).expect(t, 200)
	added := a.do("PUT", "/v1/clients/"+ids[2]+"/lists/"+listID, tok, nil).expect(t, 200)

	members := a.do("GET", "/v1/clients?list="+listID+"&min_position="+added.str("position"), tok, nil).expect(t, 200)
	if len(members.items()) != 2 {
		t.Fatalf("list members %s", members.raw)
	}
	lists := a.do("GET", "/v1/lists", tok, nil).expect(t, 200)
	if len(lists.items()) != 1 || lists.items()[0]["members"] != float64(2) {
		t.Fatalf("lists %s", lists.raw)
	}

	contact := a.do("POST", "/v1/clients/"+ids[0]+"/contact-persons", tok, map[string]any{"first_name": "Bob", "email": "bob@example.be", "role": "accountant"}).expect(t, 201)
	cid := contact.str("contact_id")
	a.do("POST", "/v1/clients/"+ids[0]+"/contact-persons", tok, map[string]any{"email": "nobody"}).expect(t, 422)
	a.do("PATCH", "/v1/clients/"+ids[0]+"/contact-persons/"+cid, tok, map[string]any{"role": "CFO"}).expect(t, 200)
	withContact := a.do("PATCH", "/v1/clients/"+ids[0]+"/contact-persons/"+cid, tok, map[string]any{"phone": "+32 2 555 01 02"}).expect(t, 200)
	c := a.do("GET", "/v1/clients/"+ids[0]+"?min_position="+withContact.str("position"), tok, nil).expect(t, 200)
	persons, _ := c.body["contact_persons"].([]any)
	if len(persons) != 1 || persons[0].(map[string]any)["role"] != "CFO" || persons[0].(map[string]any)["phone"] != "+32 2 555 01 02" {
		t.Fatalf("contact persons %s", c.raw)
	}
	a.do("DELETE", "/v1/clients/"+ids[0]+"/contact-persons/"+cid, tok, nil).expect(t, 200)
	a.do("DELETE", "/v1/clients/"+ids[0]+"/contact-persons/"+cid, tok, nil).expect(t, 404)

	renamed := a.do("PATCH", "/v1/lists/"+listID, tok, map[string]any{"name": "Nieuwsbrief"}).expect(t, 200)
	if got := a.do("GET", "/v1/lists?min_position="+renamed.str("position"), tok, nil).items(); got[0]["name"] != "Nieuwsbrief" {
		t.Fatalf("renamed list %v", got)
	}
	gone := a.do("DELETE", "/v1/lists/"+listID, tok, nil).expect(t, 200)
	a.do("GET", "/v1/clients?list="+listID+"&min_position="+gone.str("position"), tok, nil).expect(t, 404)
	a.do("PUT", "/v1/clients/"+ids[1]+"/lists/"+listID, tok, nil).expect(t, 409)

	// Keyset pages cover every client once, in name order.
	seen := map[string]bool{}
	var names []string
	cursor := ""
	for pages := 0; ; pages++ {
		page := a.do("GET", "/v1/clients?limit=2&cursor="+cursor, tok, nil).expect(t, 200)
		for _, it := range page.items() {
			if seen[it["id"].(string)] {
				t.Fatalf("client %v on two pages", it["id"])
			}
			seen[it["id"].(string)] = true
			names = append(names, it["last_name"].(string))
		}
		if cursor = page.str("next_cursor"); cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(names, ",") != "Jacobs,Janssens,Maes,Mertens,Peeters" {
		t.Fatalf("paged order %v", names)
	}
	a.do("GET", "/v1/clients?cursor="+base64.RawURLEncoding.EncodeToString([]byte("junk")), tok, nil).expect(t, 400)
	a.verify()
}

func TestReadyzShowsProjectionPositions(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]
	created := a.do("POST", "/v1/clients", tok, marie("ready@example.be")).expect(t, 201)
	a.do("GET", "/v1/clients?min_position="+created.str("position"), tok, nil).expect(t, 200)
	r := a.do("GET", "/readyz", "", nil).expect(t, 200)
	projs, _ := r.body["projections"].([]any)
	if len(projs) != len(projections.Names()) {
		t.Fatalf("readyz %s", r.raw)
	}
	for _, p := range projs {
		m := p.(map[string]any)
		if m["running"] != true || m["head"] != float64(1) {
			t.Errorf("projection status %v", m)
		}
	}
	a.do("GET", "/v1/clients?min_position=999", tok, nil).expect(t, 400)
}
