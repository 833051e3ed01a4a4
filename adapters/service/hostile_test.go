package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/adapters/spreadsheet/spreadsheettest"
	"github.com/clientreg/clientreg/domain"
)

// hostileTexts are the bytes a careless or hostile user sends through any
// door: each must be refused, none may reach the log.
var hostileTexts = map[string]string{
	"NUL":            "s\x00x",
	"control":        "s\x01x",
	"escape":         "s\x1b[31mx",
	"DEL":            "s\x7fx",
	"C1 control":     "s\u0085x",
	"invalid UTF-8":  "s\xffx",
	"bidi override":  "Ali\u202Eecila",
	"bidi isolate":   "Ali\u2067ce",
	"line separator": "s\nx", // one line only outside street and notes
}

// stillServes fails the test when the server no longer answers.
func (a *app) stillServes(tok string) {
	a.t.Helper()
	a.do("GET", "/healthz", "", nil).expect(a.t, 200)
	a.do("GET", "/v1/clients", tok, nil).expect(a.t, 200)
}

// refused checks that r is a 400 or 422 that names field (when given), and
// that nothing was appended since head.
func (a *app) refused(what string, r response, field, head string) {
	a.t.Helper()
	if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
		a.t.Errorf("%s: status %d, want 400 or 422: %.300s", what, r.status, r.raw)
		return
	}
	if field != "" && !strings.Contains(r.raw, `"field":"`+field+`"`) {
		a.t.Errorf("%s: the answer does not name %s: %.300s", what, field, r.raw)
	}
	if now := a.head(); now != head {
		a.t.Errorf("%s: the log moved from %s to %s", what, head, now)
	}
}

func multipartBody(file string, content []byte, fields ...string) (string, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", file)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return body.String(), mw.FormDataContentType()
}

// TestHostileTextsAtEveryDoor sends each hostile text through every input
// channel: JSON fields, multipart fields, query parameters, headers, an
// ERP push (path and body), a source's records and spreadsheet cells.
func TestHostileTextsAtEveryDoor(t *testing.T) {
	t.Parallel()
	ap := newFakeAdminPulse(t)
	a, _ := startSyncApp(t, ap)
	tokens := a.tenant("doors")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]
	client := a.do("POST", "/v1/clients", editor, marie("marie@example.be")).expect(t, 201)
	clientID := client.str("id")
	list := a.do("POST", "/v1/lists", editor, map[string]any{"name": "VIP"}).expect(t, 201).str("id")
	erp := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "erp"}).expect(t, 201)
	csvOK := []byte("email;language\na@example.be;fr\n")

	for name, bad := range hostileTexts {
		t.Run(name, func(t *testing.T) {
			a := &app{t: t, base: a.base, svc: a.svc}
			head := a.head()
			jsonDoors := []struct {
				what, method, path, field string
				body                      map[string]any
			}{
				{"register", "POST", "/v1/clients", "last_name", map[string]any{"email": "x@example.be", "first_name": "X", "last_name": bad}},
				{"notes", "POST", "/v1/clients", "notes", map[string]any{"email": "x@example.be", "first_name": "X", "notes": strings.ReplaceAll(bad, "\n", "\x0b")}},
				{"contact", "POST", "/v1/clients/" + clientID + "/contact-persons", "first_name", map[string]any{"first_name": bad, "last_name": "Y"}},
				{"list", "POST", "/v1/lists", "name", map[string]any{"name": bad}},
				{"rename list", "PATCH", "/v1/lists/" + list, "name", map[string]any{"name": bad}},
				{"custom field option", "POST", "/v1/custom-fields", "options", map[string]any{"name": "tier", "type": "choice", "options": []string{bad}}},
				{"delete reason", "DELETE", "/v1/clients/" + clientID, "reason", map[string]any{"reason": bad}},
				{"app device", "POST", "/v1/app-registrations", "device", map[string]any{"email": "nobody@example.be", "device": bad}},
				{"base_url", "POST", "/v1/connections", "base_url", map[string]any{"provider": "admin-is-consult", "base_url": "https://h.example.be/" + bad, "api_key": "k"}},
				{"external ref", "POST", "/v1/clients", "external_refs[0].external_id", map[string]any{"email": "y@example.be", "first_name": "Y",
					"external_refs": []map[string]string{{"source": "exact", "external_id": bad}}}},
			}
			for _, d := range jsonDoors {
				raw, _ := json.Marshal(d.body)
				if strings.Contains(bad, "\xff") {
					// json.Marshal would clean the bytes up: send them raw.
					raw = bytes.Replace(raw, []byte(`\ufffd`), []byte("\xff"), 1)
				}
				tok, field := editor, d.field
				if d.what == "custom field option" || d.what == "base_url" {
					tok = admin
				}
				if strings.Contains(bad, "\xff") {
					field = "" // refused as JSON that is not UTF-8, before any field is read
				}
				a.refused("JSON "+d.what, a.do(d.method, d.path, tok, string(raw)), field, head)
			}

			for _, field := range []string{"source", "sheet", "encoding", "mode"} {
				body, ct := multipartBody("a.csv", csvOK, field, bad)
				named := field
				if field == "mode" {
					named = "" // refused as an unknown mode
				}
				a.refused("multipart "+field, a.do("POST", "/v1/imports", admin, body, "Content-Type", ct), named, head)
			}
			body, ct := multipartBody("a.csv", csvOK, "mapping", `{"email":"`+bad+`"}`)
			a.refused("multipart mapping", a.do("POST", "/v1/imports", admin, body, "Content-Type", ct), "", head)

			for _, q := range []string{"/v1/clients?q=", "/v1/clients?source=", "/v1/clients?status=", "/v1/clients?cursor=",
				"/v1/events?type=", "/v1/events?actor=", "/v1/imports?status=", "/v1/app-access?email="} {
				param := q[strings.IndexByte(q, '?')+1 : len(q)-1]
				a.refused("query "+q, a.do("GET", q+url.QueryEscape(bad), admin, nil), param, head)
			}
			if !strings.ContainsAny(bad, "\x00\x01\x1b\x7f\n") { // Go's client refuses to send those in a header
				a.refused("X-Correlation-ID", a.do("POST", "/v1/lists", editor, map[string]any{"name": "L " + name}, "X-Correlation-ID", bad), "X-Correlation-ID", head)
				a.refused("Idempotency-Key", a.do("POST", "/v1/lists", editor, map[string]any{"name": "L " + name}, "Idempotency-Key", bad), "Idempotency-Key", head)
			}

			a.refused("ERP external id", a.push("PUT", erp.str("id"), url.PathEscape(bad), erp.str("secret"), "",
				map[string]any{"email": "erp@example.be", "first_name": "E"}), "external_id", head)
			if strings.Contains(bad, "\xff") {
				return // the files below read as Windows-1252, where any byte is a character
			}
			a.refused("ERP body", a.push("PUT", erp.str("id"), "K-"+fmt.Sprint(len(name)), erp.str("secret"), "",
				map[string]any{"email": "erp@example.be", "first_name": bad}), "first_name", head)

			if name == "line separator" {
				return // a line break in a file is the import rules' business
			}
			// A header the log cannot hold refuses the file (the refusal is
			// recorded, with no trace of the header); a NUL byte says the file
			// is no text at all.
			hdr := a.upload(admin, "hdr.csv", []byte("email;"+bad+"\na@example.be;x\n"))
			if hdr.status != 422 || hdr.errorCode() != "invalid_header" && hdr.errorCode() != "binary_content" {
				t.Errorf("bad header: %d %.300s", hdr.status, hdr.raw)
			}
			// A bad cell is an error of its row, which never reaches the log.
			cell := a.upload(admin, "cell.csv", []byte("email;last_name\nc@example.be;"+bad+"\n"))
			if cell.errorCode() != "binary_content" && (cell.status != 201 || cell.str("summary", "invalid") != "1" || cell.list("errors")[0]["code"] != "invalid_text") {
				t.Errorf("bad cell: %.400s", cell.raw)
			}
			var bad int
			if err := a.svc.Pool.QueryRow(context.Background(),
				`SELECT count(*) FROM events WHERE stream_type = 'client' AND "offset" > $1::bigint`, head).Scan(&bad); err != nil || bad != 0 {
				t.Errorf("client events appended: %d %v", bad, err)
			}
			a.stillServes(editor)
		})
	}

	// A source's records: a hostile id makes the record an issue of the run
	// that never reaches the log; a hostile name is left out, and said so.
	// (The fake source writes JSON, which cannot carry invalid UTF-8.)
	ap.set("GOOD", relation(1))
	ids, names := 0, 0
	for name, bad := range hostileTexts {
		if name == "invalid UTF-8" {
			continue
		}
		ap.set("ID-"+bad, map[string]any{"name": "Id " + name, "firstName": "X", "email": fmt.Sprintf("id%d@example.be", ids)})
		ids++
		if name != "line separator" { // a line break in a source's name becomes a space, as in a file
			ap.set(fmt.Sprintf("NAME-%d", names), map[string]any{"name": bad, "firstName": "X", "email": fmt.Sprintf("name%d@example.be", names)})
			names++
		}
	}
	run := a.waitRun(admin, connectAdminPulse(t, a, ap, admin), "")
	if c := counts(run); run["status"] != "completed" || c["created"] != 1+names || c["errors"] != ids {
		t.Errorf("sync of hostile records: %v", run)
	}
	if n := a.clientEvents(run["id"].(string)); n != 1+names {
		t.Errorf("the sync of hostile records appended %d client events, want %d", n, 1+names)
	}
	issues := fmt.Sprint(run["issues"])
	if strings.Count(issues, "taken without last_name") != names || strings.ContainsAny(issues, "\x00\x01\x1b\x7f\u202e\u2067") {
		t.Errorf("the run's issues do not name each left-out name, or echo hostile bytes: %q", issues)
	}
	for i := range names {
		if found := a.findByEmail(admin, fmt.Sprintf("name%d@example.be", i)); len(found) != 1 || found[0]["last_name"] != nil && found[0]["last_name"] != "" {
			t.Errorf("client with a hostile name at the source: %v", found)
		}
	}
	a.stillServes(editor)
	a.verify()
}

// TestUnicodeLookAlikes: the same address typed two ways is one client;
// JSON that would be stored changed is refused.
func TestUnicodeLookAlikes(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("unicode")[domain.RoleEditor]
	nfc := "josé@example.be"
	first := a.do("POST", "/v1/clients", tok, marie(nfc)).expect(t, 201)
	if r := a.do("POST", "/v1/clients", tok, marie(norm.NFD.String(nfc))).expect(t, 409); r.str("error", "details", "existing_id") != first.str("id") {
		t.Errorf("NFD address: %s", r.raw)
	}
	a.do("POST", "/v1/clients", tok, marie("info@bücher.be")).expect(t, 201)
	a.do("POST", "/v1/clients", tok, marie("INFO@xn--bcher-kva.be")).expect(t, 409)
	a.do("POST", "/v1/clients", tok, marie("info@BÜCHER.be")).expect(t, 409)

	head := a.head()
	a.refused("invalid UTF-8", a.do("POST", "/v1/clients", tok, "{\"email\":\"z@example.be\",\"first_name\":\"Z\xc3\",\"last_name\":\"Z\"}"), "", head)
	a.refused("lone surrogate", a.do("POST", "/v1/clients", tok, `{"email":"z@example.be","first_name":"Z\ud800","last_name":"Z"}`), "", head)
	a.refused("lone low surrogate", a.do("POST", "/v1/clients", tok, `{"email":"z@example.be","first_name":"Z\udc00\ud800","last_name":"Z"}`), "", head)
	a.do("POST", "/v1/clients", tok, `{"email":"z@example.be","first_name":"Z \ud83d\ude00","last_name":"Z\\ud800"}`).expect(t, 201)
	head = a.head()
	long := strings.Repeat("x", 900<<10)
	a.refused("long device", a.do("POST", "/v1/app-registrations", tok, map[string]any{"email": "d@example.be", "device": long}), "device", head)
	if r := a.do("POST", "/v1/app-registrations", tok, map[string]any{"email": "d@example.be", "device": long}); strings.Contains(r.raw, "xxxxxxxxxx") {
		t.Error("the long device is echoed")
	}
	admin := a.tenant("unicode2")[domain.RoleAdmin]
	head = a.head()
	a.refused("long base_url", a.do("POST", "/v1/connections", admin, map[string]any{"provider": "admin-is-consult",
		"base_url": "https://h.example.be/" + long, "api_key": "k"}), "base_url", head)
}

// TestAnalysesBeyondTheLimitAre429: with room for one analysis, a second
// one while the first runs answers 429, and nothing is appended for it.
// The first is held inside its slot by a lock on the table it reads its
// tenant's limits from.
func TestAnalysesBeyondTheLimitAre429(t *testing.T) {
	t.Parallel()
	a := startAppWith(t, service.Config{DatabaseURL: pgtest.NewDatabaseURL(t), MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: testLogger(), MaxAnalyses: 1})
	admin := a.tenant("busy")[domain.RoleAdmin]
	ctx := context.Background()
	lock, err := a.svc.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := lock.Exec(ctx, `LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	head := a.head()
	answers := make(chan response, 2)
	for i := range 2 {
		go func() {
			answers <- a.upload(admin, fmt.Sprintf("file%d.csv", i), []byte(fmt.Sprintf("email;language\nc%d@example.be;nl\n", i)))
		}()
	}
	busy := <-answers // the other one waits for the lock, in its slot
	if busy.status != http.StatusTooManyRequests || busy.errorCode() != "too_many_analyses" || busy.header.Get("Retry-After") == "" {
		t.Fatalf("second analysis: %d %s", busy.status, busy.raw)
	}
	if a.head() != head {
		t.Error("the refused analysis appended events")
	}
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	(<-answers).expect(t, http.StatusCreated)
	a.upload(admin, "third.csv", []byte("email;language\nd@example.be;nl\n")).expect(t, http.StatusCreated)
}

// TestHostileFiles uploads the files that ate the memory or reach outside:
// a huge cell written in a sheet, in the shared strings, in a CSV; a table
// of shared strings that unpacks to 100 MB; an external entity. Each
// answers as stated, names a cut cell with the length it had, appends no
// client event, and the server still answers.
func TestHostileFiles(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("bombs")[domain.RoleAdmin]
	const n = 20 << 20
	cases := []struct {
		file    string
		content []byte
		status  int
		code    string // of the refusal, or of the row's error
	}{
		{"inline.xlsx", spreadsheettest.InlineCellXLSX(n), 201, "too_long"},
		{"shared.xlsx", spreadsheettest.SharedCellXLSX(n), 201, "too_long"},
		{"cell.csv", spreadsheettest.HugeCellCSV(n), 201, "too_long"},
		{"sst.xlsx", spreadsheettest.SharedStringsBombXLSX(200_000, 500), 422, "workbook_too_large"},
		{"xxe.xlsx", spreadsheettest.XXEXLSX(), 422, "corrupt_workbook"},
	}
	for _, c := range cases {
		head := a.head()
		r := a.upload(admin, c.file, c.content)
		if r.status != c.status {
			t.Errorf("%s: %d %.300s", c.file, r.status, r.raw)
			continue
		}
		if c.status == 201 {
			errs := r.list("errors")
			if len(errs) != 1 || errs[0]["code"] != c.code || errs[0]["column"] != "B" ||
				!strings.Contains(errs[0]["message"].(string), "20,971,520") && !strings.Contains(errs[0]["message"].(string), "20971520") {
				t.Errorf("%s: errors %v", c.file, errs)
			}
		} else if r.errorCode() != c.code {
			t.Errorf("%s: %s", c.file, r.raw)
		}
		if strings.Contains(r.raw, "root:") {
			t.Errorf("%s: the answer shows a file of the server", c.file)
		}
		var clientEvents int
		if err := a.svc.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM events WHERE stream_type = 'client' AND "offset" > $1::bigint`, head).Scan(&clientEvents); err != nil || clientEvents != 0 {
			t.Errorf("%s: %d client events appended (%v)", c.file, clientEvents, err)
		}
		a.stillServes(admin)
	}
}
