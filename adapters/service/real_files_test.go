package service_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// A Belgian Excel "CSV UTF-8": BOM, ";", quoted cells holding line breaks
// (Alt+Enter) and ";". Nothing in it is an error.
const excelDutchCSV = "\ufeffVoornaam;Achternaam;E-mail;Straat;Postcode;Gemeente;GSM;Opmerkingen\r\n" +
	"Jan;Peeters;jan@example.be;\"Kerkstraat 7\nbus 2\";9000;Gent;475123456;\"Belt liever 's avonds;\nspreekt Frans.\"\r\n" +
	"\"Anne\nMarie\";Claes;anne@example.be;\"Grote Markt 1\r\nbus 3; achterdeur\";2000;Antwerpen;0496 12 34 56;\r\n" +
	"Piet;Smet;piet@example.be;Dorpstraat 3;8500;Kortrijk;;\"Klant sinds 2019.\"\r\n"

func TestMultiLineCellsAndNotesOverHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("kantoor")
	admin := tokens[domain.RoleAdmin]

	an := a.upload(admin, "klanten.csv", []byte(excelDutchCSV), "lang", "nl").expect(t, http.StatusCreated)
	if an.str("summary", "valid") != "3" || an.str("summary", "invalid") != "0" || an.str("summary", "warnings") != "2" {
		t.Fatalf("analysis %s", an.raw)
	}
	var warnings []string
	for _, e := range an.list("errors") {
		warnings = append(warnings, field(e, "row")+field(e, "column")+" "+field(e, "code"))
		if field(e, "code") == "line_breaks_joined" && !strings.Contains(field(e, "message"), "Anne Marie") {
			t.Errorf("the warning does not show the joined value: %v", e)
		}
	}
	if got := strings.Join(warnings, ", "); got != "2G phone_zero_restored, 3A line_breaks_joined" {
		t.Errorf("warnings %s", got)
	}
	done := a.execute(admin, an.str("id"), map[string]any{})
	if done.str("counts", "created") != "3" {
		t.Fatalf("execution %s", done.raw)
	}
	pos := done.str("position")
	jan := a.do("GET", "/v1/clients?q=peeters&min_position="+pos, admin, nil).expect(t, 200).items()
	if len(jan) != 1 {
		t.Fatalf("search peeters: %v", jan)
	}
	addr, _ := jan[0]["address"].(map[string]any)
	if field(addr, "street") != "Kerkstraat 7\nbus 2" || field(jan[0], "notes") != "Belt liever 's avonds;\nspreekt Frans." ||
		field(jan[0], "phone") != "0475123456" {
		t.Errorf("client %v", jan[0])
	}
	// Notes are shown, not searched.
	if n := len(a.do("GET", "/v1/clients?q="+url.QueryEscape("avonds"), admin, nil).expect(t, 200).items()); n != 0 {
		t.Errorf("a search for a note's word found %d clients", n)
	}

	// Through the API: notes of several lines, up to 4,000 characters.
	created := a.do("POST", "/v1/clients", admin, map[string]any{"first_name": "Lea", "last_name": "Maes",
		"email": "lea@example.be", "notes": "Eerste regel\nTweede regel"}).expect(t, http.StatusCreated)
	got := a.do("GET", "/v1/clients/"+created.str("id")+"?min_position="+created.str("position"), admin, nil).expect(t, 200)
	if got.str("notes") != "Eerste regel\nTweede regel" {
		t.Errorf("notes read back %q", got.str("notes"))
	}
	tooLong := a.do("PATCH", "/v1/clients/"+created.str("id"), admin, map[string]any{"notes": strings.Repeat("x", 4001)}, "If-Match", "1")
	tooLong.expect(t, http.StatusUnprocessableEntity)
	a.do("PATCH", "/v1/clients/"+created.str("id"), admin, map[string]any{"notes": strings.Repeat("x", 4000)}, "If-Match", "1").expect(t, 200)
}

// An export from accounting software: a title, a date and a blank row above
// the header. The header is found on row 4, the issues and the rejected
// rows keep the row numbers the user sees, and only the data is imported.
const titledCSV = "Klantenlijst;;\r\nAfgedrukt op 2024-05-01;;\r\n;;\r\n" +
	"Voornaam;Achternaam;E-mail;Onbekend\r\n" +
	"Jan;Peeters;jan@example.be;x\r\n" +
	"An;Claes;not-an-email;y\r\n" +
	"Piet;Smet;piet@example.be;z\r\n"

func TestTitleRowsAboveTheHeader(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("boekhouding")[domain.RoleAdmin]

	an := a.upload(admin, "klanten.csv", []byte(titledCSV)).expect(t, http.StatusCreated)
	if an.str("detected", "header_row") != "4" || an.str("summary", "rows") != "3" || an.str("summary", "valid") != "2" {
		t.Fatalf("analysis %s", an.raw)
	}
	var issues []string
	for _, e := range an.list("errors") {
		issues = append(issues, field(e, "row")+field(e, "column")+" "+field(e, "code"))
	}
	if got := strings.Join(issues, ", "); got != "4 header_row, 4D unknown_column, 6C invalid_email" {
		t.Errorf("issues %s", got)
	}
	rejected := a.do("GET", "/v1/imports/"+an.str("id")+"/rejected.csv", admin, nil).expect(t, 200)
	if !strings.HasPrefix(strings.TrimPrefix(rejected.raw, "\ufeff"), "Voornaam;Achternaam;E-mail;Onbekend;") ||
		!strings.Contains(rejected.raw, "An;Claes;not-an-email;y;") || strings.Contains(rejected.raw, "Klantenlijst") {
		t.Errorf("rejected rows %q", rejected.raw)
	}
	done := a.execute(admin, an.str("id"), map[string]any{})
	if done.str("counts", "created") != "2" {
		t.Fatalf("execution %s", done.raw)
	}

	// The user may name the header row; a row with nothing on it is refused.
	named := a.upload(admin, "klanten.csv", []byte(titledCSV), "header_row", "4").expect(t, http.StatusCreated)
	if named.str("detected", "header_row") != "4" {
		t.Errorf("named header row %s", named.raw)
	}
	a.upload(admin, "klanten.csv", []byte(titledCSV), "header_row", "3").expect(t, http.StatusUnprocessableEntity)
	a.upload(admin, "klanten.csv", []byte(titledCSV), "header_row", "1001").expect(t, http.StatusUnprocessableEntity)
}

// A file no alias fits is refused, but kept: the user maps its columns
// (POST /v1/imports/{id}/mapping) and imports it without editing it.
func TestMappingByTheUser(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("mapping")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]
	file := "Adr. post;Voor;Achter;Stad\r\njan@example.be;Jan;Peeters;Gent\r\nan@example.be;An;Claes;Brugge\r\n"

	refused := a.upload(editor, "export.csv", []byte(file)).expect(t, http.StatusUnprocessableEntity)
	if refused.str("error", "code") != "no_email_column" {
		t.Fatalf("upload %s", refused.raw)
	}
	id := refused.str("error", "details", "import_id")
	path := "/v1/imports/" + id + "/mapping"

	// A mapping that still gives no email is refused; nothing changes.
	a.do("POST", path, editor, map[string]any{"mapping": map[string]string{"B": "first_name"}}).expect(t, http.StatusUnprocessableEntity)
	a.do("POST", path, editor, map[string]any{"mapping": map[string]string{"A": "no_such_field"}}).expect(t, http.StatusUnprocessableEntity)
	a.do("POST", path, tokens[domain.RoleViewer], map[string]any{"mapping": map[string]string{"A": "email"}}).expect(t, http.StatusForbidden)

	an := a.do("POST", path, editor, map[string]any{"mapping": map[string]string{"Adr. post": "email", "B": "first_name", "C": "last_name"}}).expect(t, http.StatusOK)
	var mapped []string
	for _, m := range an.list("detected", "mapping") {
		mapped = append(mapped, field(m, "column")+"="+field(m, "field"))
	}
	if an.str("id") != id || an.str("summary", "valid") != "2" || strings.Join(mapped, " ") != "A=email B=first_name C=last_name D=city" {
		t.Fatalf("remapped analysis %s", an.raw)
	}
	// Mapped again (Stad left out): the analysis and its issues are the new ones.
	an = a.do("POST", path, editor, map[string]any{"mapping": map[string]string{"A": "email", "B": "first_name", "C": "last_name", "D": "ignore"}}).expect(t, http.StatusOK)
	got := a.do("GET", "/v1/imports/"+id+"?min_position="+an.str("position"), editor, nil).expect(t, 200)
	if got.str("status") != "analyzed" || got.list("detected", "mapping")[3]["field"] != "(not imported)" {
		t.Fatalf("import after mapping: %s", got.raw)
	}
	done := a.execute(admin, id, map[string]any{})
	if done.str("counts", "created") != "2" {
		t.Fatalf("execution %s", done.raw)
	}
	clients := a.do("GET", "/v1/clients?q=peeters&min_position="+done.str("position"), admin, nil).expect(t, 200).items()
	if len(clients) != 1 || field(clients[0], "first_name") != "Jan" || field(clients[0], "email") != "jan@example.be" {
		t.Fatalf("imported %v", clients)
	}
	if addr, _ := clients[0]["address"].(map[string]any); field(addr, "city") != "" {
		t.Errorf("the column left out was imported: %v", clients[0])
	}
	// Executed: its mapping is final.
	a.do("POST", path, editor, map[string]any{"mapping": map[string]string{"A": "email"}}).expect(t, http.StatusConflict)

	// A file refused for what it is, not for its mapping, is not kept.
	empty := a.upload(editor, "empty.csv", []byte("\r\n")).expect(t, http.StatusUnprocessableEntity)
	a.do("POST", "/v1/imports/"+empty.str("error", "details", "import_id")+"/mapping", editor, map[string]any{"mapping": map[string]string{"A": "email"}}).
		expect(t, http.StatusConflict)
	a.do("POST", "/v1/imports/"+uuid.NewString()+"/mapping", editor, map[string]any{}).expect(t, http.StatusNotFound)
}
