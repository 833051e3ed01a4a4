package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// upload posts a file for analysis with the given form fields.
func (a *app) upload(token, name string, content []byte, fields ...string) response {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return a.do("POST", "/v1/imports", token, body.String(), "Content-Type", mw.FormDataContentType())
}

// execute runs an analysed import and waits until it is no longer running.
func (a *app) execute(token, id string, body map[string]any) response {
	a.t.Helper()
	queued := a.do("POST", "/v1/imports/"+id+"/execute", token, body).expect(a.t, http.StatusAccepted)
	return a.waitImport(token, id, queued.str("position"))
}

// waitImport polls the import (read from position on) until it ran.
func (a *app) waitImport(token, id, position string) response {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := a.do("GET", "/v1/imports/"+id+"?min_position="+position, token, nil).expect(a.t, 200)
		if s := got.str("status"); s != "running" && s != "analyzed" {
			return got
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("import still running: %s", got.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r response) list(path ...string) []map[string]any {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	raw, _ := v.([]any)
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i], _ = it.(map[string]any)
	}
	return out
}

func field(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	}
	return ""
}

// windows1252 encodes text the way an old Excel "CSV (séparateur: point-virgule)" does.
func windows1252(t *testing.T, s string) []byte {
	t.Helper()
	out, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

const frenchFile = "Prénom;Nom;Courriel;Langue;TVA;Société;Ville;Téléphone\r\n" +
	"Marie;Dupont;marie@example.be;FR;BE0123.456.749;;Namur;+32 81 22 33 44\r\n" + // 2: valid
	"Jan;Peeters;jan@example;nl;;;Gent;\r\n" + // 3: invalid email
	"Eva;Nováková;eva@example.cz;xx;;;Praha;\r\n" + // 4: unknown language
	"Luc;Martin;luc@example.be;fr;BE0123.456.748;;Liège;\r\n" + // 5: VAT check digits
	"Marie;=Dupont-bis;MARIE@example.be;fr;;;Namur;\r\n" + // 6: duplicate of row 2, formula-like name
	"Paul;Durand;paul@example.be;fr;;;Mons;abc\r\n" + // 7: valid, phone warning
	"Sophie;Lambert;sophie@example.be;de;;;Arlon;\r\n" // 8: valid

func TestImportAnalyzeExecuteUndoOverHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("cabinet")
	admin, editor, viewer := tokens[domain.RoleAdmin], tokens[domain.RoleEditor], tokens[domain.RoleViewer]
	file := windows1252(t, frenchFile)

	a.upload(viewer, "clients.csv", file).expect(t, http.StatusForbidden)
	analysed := a.upload(editor, "clients.csv", file, "lang", "fr").expect(t, http.StatusCreated)
	id := analysed.str("id")
	if got := analysed.str("detected", "encoding"); got != "windows-1252" {
		t.Errorf("detected encoding %q, want windows-1252: %s", got, analysed.raw)
	}
	if got := analysed.str("detected", "delimiter"); got != ";" {
		t.Errorf("detected delimiter %q", got)
	}
	sum := func(k string) string { return analysed.str("summary", k) }
	if sum("rows") != "7" || sum("valid") != "3" || sum("invalid") != "4" || sum("to_create") != "3" {
		t.Fatalf("summary %s", analysed.raw)
	}
	type want struct{ row, column, code string }
	var got []want
	for _, e := range analysed.list("errors") {
		if field(e, "severity") == "error" {
			got = append(got, want{field(e, "row"), field(e, "column"), field(e, "code")})
		}
		if field(e, "message") == "" || field(e, "message") == field(e, "code") {
			t.Errorf("issue without plain words: %v", e)
		}
	}
	expected := []want{{"3", "C", "invalid_email"}, {"4", "D", "unknown_language"}, {"5", "E", "invalid_vat_check_digits"}, {"6", "C", "duplicate_in_file"}}
	if !slices.Equal(got, expected) {
		t.Fatalf("errors %v, want %v\n%s", got, expected, analysed.raw)
	}
	dup := analysed.list("errors")[3]
	if !strings.Contains(field(dup, "message"), "2") {
		t.Errorf("duplicate does not point at the first row: %v", dup)
	}
	// Nothing is in the registry after an analysis.
	if n := len(a.do("GET", "/v1/clients?min_position="+analysed.str("position"), editor, nil).items()); n != 0 {
		t.Fatalf("analysis created %d clients", n)
	}

	a.do("POST", "/v1/imports/"+id+"/execute", editor, map[string]any{}).expect(t, http.StatusForbidden)
	done := a.execute(admin, id, map[string]any{"mode": "create_only", "lists": []any{map[string]any{"name": "Newsletter"}}})
	if done.str("status") != "executed" || done.str("counts", "created") != "3" || done.str("counts", "failed") != "4" {
		t.Fatalf("execution %s", done.raw)
	}
	label := done.str("label")
	if label != time.Now().UTC().Format("2006-01-02")+" #1" {
		t.Errorf("label %q", label)
	}
	clients := a.do("GET", "/v1/clients?import="+id+"&min_position="+done.str("position"), admin, nil).expect(t, 200).items()
	if len(clients) != 3 {
		t.Fatalf("%d clients imported, want 3", len(clients))
	}
	lists := a.do("GET", "/v1/lists", admin, nil).expect(t, 200).items()
	if len(lists) != 1 || field(lists[0], "name") != "Newsletter" || field(lists[0], "members") != "3" {
		t.Fatalf("lists after import: %v", lists)
	}

	// The rejected rows come back as they were, with the reason last, and
	// nothing that a spreadsheet would run as a formula.
	rejected := a.do("GET", "/v1/imports/"+id+"/rejected.csv?lang=en", admin, nil).expect(t, 200)
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rejected.raw, "\ufeff"))).ReadAll()
	if err != nil {
		// The export uses ";" like the template.
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(rejected.raw, "\ufeff")))
		r.Comma = ';'
		if records, err = r.ReadAll(); err != nil {
			t.Fatalf("rejected.csv: %v\n%s", err, rejected.raw)
		}
	}
	if len(records) != 5 || records[1][2] != "jan@example" || records[4][1] != "'=Dupont-bis" {
		t.Fatalf("rejected rows %q", records)
	}
	if last := records[1][len(records[1])-1]; !strings.Contains(strings.ToLower(last), "email") {
		t.Errorf("reason %q does not say what is wrong", last)
	}

	// Someone edits Sophie after the import: undo keeps her and says why.
	var sophie map[string]any
	for _, c := range clients {
		if field(c, "email") == "sophie@example.be" {
			sophie = c
		}
	}
	a.do("PATCH", "/v1/clients/"+field(sophie, "id"), editor, map[string]any{"address": map[string]any{"city": "Bastogne"}}, "If-Match", field(sophie, "version")).expect(t, 200)
	undone := a.do("POST", "/v1/imports/"+id+"/undo", admin, nil).expect(t, 200)
	if undone.str("undo", "deleted") != "2" || len(undone.list("undo", "kept")) != 1 {
		t.Fatalf("undo %s", undone.raw)
	}
	if kept := undone.list("undo", "kept")[0]; field(kept, "client_id") != field(sophie, "id") || field(kept, "reason") != "kept_changed_since" {
		t.Fatalf("kept %v", kept)
	}
	a.do("POST", "/v1/imports/"+id+"/undo", admin, nil).expect(t, http.StatusConflict)
	history := a.do("GET", "/v1/imports?min_position="+undone.str("position"), admin, nil).expect(t, 200).items()
	if len(history) != 1 || field(history[0], "status") != "undone" || field(history[0], "label") != label {
		t.Fatalf("history %v", history)
	}

	// The released emails import again cleanly.
	again := a.upload(editor, "clients.csv", file).expect(t, http.StatusCreated)
	if again.str("summary", "to_create") != "2" || again.str("summary", "to_update") != "1" {
		t.Fatalf("re-analysis %s", again.raw)
	}
	redo := a.execute(admin, again.str("id"), map[string]any{"mode": "create_and_update"})
	if redo.str("counts", "created") != "2" || redo.str("label") != time.Now().UTC().Format("2006-01-02")+" #2" {
		t.Fatalf("re-import %s", redo.raw)
	}
	a.verify()
}

func TestImportUpdateModeAndUndoRestoresFields(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("office")[domain.RoleAdmin]
	first := a.do("POST", "/v1/clients", admin, marie("marie@example.be")).expect(t, 201)
	id := first.str("id")

	file := "email,city,phone,language\nMarie@Example.be,Dinant,+32 82 11 22 33,\nnew@example.be,Liège,,nl\n"
	an := a.upload(admin, "update.csv", []byte(file)).expect(t, 201)
	if an.str("summary", "to_update") != "1" || an.str("summary", "to_create") != "1" {
		t.Fatalf("analysis %s", an.raw)
	}
	only := a.execute(admin, an.str("id"), map[string]any{"mode": "create_only"})
	if only.str("counts", "skipped") != "1" || only.str("counts", "created") != "1" {
		t.Fatalf("create_only %s", only.raw)
	}

	an2 := a.upload(admin, "update.csv", []byte(file)).expect(t, 201)
	upd := a.execute(admin, an2.str("id"), map[string]any{"mode": "create_and_update"})
	if upd.str("counts", "updated") != "1" || upd.str("counts", "unchanged") != "1" {
		t.Fatalf("create_and_update %s", upd.raw)
	}
	got := a.do("GET", "/v1/clients/"+id+"?min_position="+upd.str("position"), admin, nil).expect(t, 200)
	if got.str("address", "city") != "Dinant" || got.str("phone") != "+32 82 11 22 33" || got.str("language") != "fr" {
		t.Fatalf("updated client %s (an empty cell must leave the value alone)", got.raw)
	}
	// The phone is changed again by hand: undo restores the city, keeps the phone.
	a.do("PATCH", "/v1/clients/"+id, admin, map[string]any{"phone": "+32 82 99 99 99"}, "If-Match", got.str("version")).expect(t, 200)
	undone := a.do("POST", "/v1/imports/"+an2.str("id")+"/undo", admin, nil).expect(t, 200)
	kept := undone.list("undo", "kept")
	if undone.str("undo", "restored") != "1" || len(kept) != 1 || field(kept[0], "reason") != "kept_field_changed_since" {
		t.Fatalf("undo %s", undone.raw)
	}
	after := a.do("GET", "/v1/clients/"+id+"?min_position="+undone.str("position"), admin, nil).expect(t, 200)
	if after.str("address", "city") != "Namur" || after.str("phone") != "+32 82 99 99 99" {
		t.Fatalf("after undo %s", after.raw)
	}
	a.verify()
}

func TestImportContactsLayout(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("crm")[domain.RoleAdmin]
	file := "Société;E-mail;Type;Contact prénom;Contact nom;Contact e-mail\n" +
		"Acme;info@acme.be;company;Ann;Smet;ann@acme.be\n" +
		";info@acme.be;;Bert;Claes;bert@acme.be\n" +
		";nobody@else.be;;Chris;Maes;\n" +
		"Beta;hello@beta.be;company;Dirk;Wouters;\n"
	an := a.upload(admin, "contacts.csv", []byte(file), "layout", "contacts").expect(t, 201)
	if an.str("summary", "to_create") != "2" || an.str("summary", "invalid") != "1" {
		t.Fatalf("analysis %s", an.raw)
	}
	errs := an.list("errors")
	if len(errs) != 1 || field(errs[0], "row") != "4" || field(errs[0], "code") != "client_not_found" {
		t.Fatalf("errors %v", errs)
	}
	done := a.execute(admin, an.str("id"), nil)
	clients := a.do("GET", "/v1/clients?q=acme&min_position="+done.str("position"), admin, nil).expect(t, 200).items()
	if len(clients) != 1 {
		t.Fatalf("clients %v", clients)
	}
	contacts, _ := clients[0]["contact_persons"].([]any)
	if len(contacts) != 2 {
		t.Fatalf("acme has %d contacts, want 2: %v", len(contacts), clients[0])
	}
	a.verify()
}

func TestImportRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("hostile")[domain.RoleAdmin]
	xlsx := func(rows ...[]any) []byte {
		f := excelize.NewFile()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			_ = f.SetSheetRow("Sheet1", cell, &r)
		}
		var buf bytes.Buffer
		_ = f.Write(&buf)
		return buf.Bytes()
	}
	valid := xlsx([]any{"email", "language"}, []any{"a@example.be", "fr"})
	cases := []struct {
		name, file string
		content    []byte
		code       string
	}{
		{"empty", "empty.csv", nil, "empty_file"},
		{"header only", "header.csv", []byte("email;language\r\n"), "no_rows"},
		{"binary named csv", "photo.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), "binary_content"},
		{"duplicate headers", "dup.csv", []byte("email;E-mail\na@b.be;c@d.be\n"), "duplicate_header"},
		{"truncated workbook", "cut.xlsx", valid[:len(valid)/2], "corrupt_workbook"},
		{"no email column", "names.csv", []byte("first_name;last_name\nA;B\n"), "no_email_column"},
	}
	for _, c := range cases {
		res := a.upload(admin, c.file, c.content)
		if res.status != http.StatusUnprocessableEntity || res.errorCode() != c.code || res.str("error", "message") == "" {
			t.Errorf("%s: %d %s, want 422 %s", c.name, res.status, res.raw, c.code)
		}
	}
	huge := "email;last_name\na@example.be;" + strings.Repeat("x", 10<<20) + "\n"
	res := a.upload(admin, "huge.csv", []byte(huge)).expect(t, 201)
	if res.list("errors")[0]["code"] != "too_long" || res.str("summary", "invalid") != "1" {
		t.Fatalf("10 MB cell: %s", res.raw[:min(len(res.raw), 500)])
	}

	ctx := context.Background()
	var tenantID [16]byte
	if err := a.svc.Pool.QueryRow(ctx, `SELECT id FROM tenants WHERE name = 'hostile'`).Scan(&tenantID); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Imports.SetLimits(ctx, tenantID, commands.ImportLimits{MaxRows: 2, MaxBytes: 1000}); err != nil {
		t.Fatal(err)
	}
	rows := a.upload(admin, "three.csv", []byte("email\na@example.be\nb@example.be\nc@example.be\n")).expect(t, 422)
	if rows.errorCode() != "too_many_rows" || !strings.Contains(rows.str("error", "message"), "2") {
		t.Errorf("row limit: %s", rows.raw)
	}
	big := a.upload(admin, "big.csv", bytes.Repeat([]byte("a@example.be\n"), 200)).expect(t, http.StatusRequestEntityTooLarge)
	if big.errorCode() != "file_too_large" {
		t.Errorf("size limit: %s", big.raw)
	}
	var stored int
	if err := a.svc.Pool.QueryRow(ctx, `SELECT count(DISTINCT import_id) FROM import_files`).Scan(&stored); err != nil || stored != 3 {
		// The 10 MB-cell file was analysed; the files refused for their
		// mapping alone (duplicate headers, no email column) are kept for
		// the user to map them; the others are not kept.
		t.Errorf("files stored %d (%v), want 3", stored, err)
	}
	// The history is a projection: give it a moment to catch up.
	var refused []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(refused) < len(cases)+2 && time.Now().Before(deadline); {
		refused = a.do("GET", "/v1/imports?status=refused", admin, nil).expect(t, 200).items()
		time.Sleep(20 * time.Millisecond)
	}
	if len(refused) != len(cases)+2 {
		t.Errorf("refusals in the history: %d, want %d", len(refused), len(cases)+2)
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("templates")[domain.RoleAdmin]
	defined := a.do("POST", "/v1/custom-fields", admin, map[string]any{"name": "tier", "type": "choice", "options": []string{"gold", "silver"}}).expect(t, 201)
	pos := defined.str("position")
	for _, lang := range []string{"en", "fr", "nl", "cs"} {
		for _, layout := range []string{"clients", "contacts"} {
			res := a.do("GET", "/v1/templates/clients.xlsx?lang="+lang+"&layout="+layout+"&min_position="+pos, admin, nil).expect(t, 200)
			f, err := excelize.OpenReader(strings.NewReader(res.raw))
			if err != nil {
				t.Fatal(err)
			}
			sheet := f.GetSheetName(0)
			header, _ := f.GetRows(sheet)
			values := map[string]string{"email": "round.trip@example.be", "language": "nl", "first_name": "Rita", "last_name": "Trip", "tier": "gold"}
			row := make([]any, len(header[0]))
			for i, h := range header[0] {
				row[i] = ""
				for k, v := range values {
					if matchesHeader(h, layout, k) {
						row[i] = v
					}
				}
			}
			_ = f.SetSheetRow(sheet, "A2", &row)
			var buf bytes.Buffer
			_ = f.Write(&buf)
			an := a.upload(admin, "template-"+lang+".xlsx", buf.Bytes(), "layout", layout).expect(t, 201)
			if an.str("summary", "valid") != "1" || an.str("summary", "warnings") != "0" || len(an.list("errors")) != 0 {
				t.Errorf("%s/%s template as filled in: %s", lang, layout, an.raw)
			}
			csvRes := a.do("GET", "/v1/templates/clients.csv?lang="+lang+"&layout="+layout+"&min_position="+pos, admin, nil).expect(t, 200)
			if !strings.Contains(csvRes.raw, "tier") {
				t.Errorf("%s csv template lacks the custom field: %q", lang, csvRes.raw)
			}
		}
	}
}

// matchesHeader: the template column holds the field the import maps it to.
func matchesHeader(header, layout, key string) bool {
	l, _ := domain.ParseLayout(layout)
	if col, ok := domain.MatchHeader(header, l); ok {
		return col.Key() == key
	}
	return header == key // custom fields are headed by their name
}
