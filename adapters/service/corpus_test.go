package service_test

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// corpus holds files saved by LibreOffice (scripts/make-fixtures.sh): the
// CSVs of corpus/src as .xlsx, .xls and .ods, and the product's template
// of every language opened, filled in and saved.
const corpus = "../spreadsheet/testdata/corpus/"

// corpusCase is what the analysis of one source must find, as a CSV and
// in whatever format LibreOffice saved it.
type corpusCase struct {
	source    string
	headerRow string
	rows      string
	valid     string
	errorRows string // rows with an error, in order
	warnings  string // "row column code", in order
	// saved are the warnings of the files LibreOffice saved, when they
	// differ: it stores a phone like 0475123456 as the number 475123456.
	saved  string
	mapped map[string]string // column letter -> field ("" = not imported)
}

var corpusCases = []corpusCase{
	{
		// An accounting export: a title and a date above the header.
		source: "accounting", headerRow: "4", rows: "3", valid: "2", errorRows: "6",
		warnings: "4 header_row", saved: "4 header_row, 7F phone_zero_restored",
		mapped: map[string]string{"A": "external_id", "B": "last_name", "C": "email", "D": "postal_code", "E": "city", "F": "phone"},
	},
	{
		source: "dutch_excel", headerRow: "1", rows: "3", valid: "2", errorRows: "4",
		warnings: "3A line_breaks_joined", saved: "2G phone_zero_restored, 3A line_breaks_joined",
		mapped: map[string]string{"A": "first_name", "B": "last_name", "C": "email", "D": "street", "E": "postal_code",
			"F": "city", "G": "phone", "H": "notes"},
	},
	{
		source: "google", headerRow: "1", rows: "3", valid: "2", errorRows: "4",
		warnings: "1A kept_aside, 1D unknown_column, 1F unknown_column",
		mapped: map[string]string{"A": "", "B": "first_name", "C": "last_name", "E": "email", "G": "phone", "H": "street",
			"I": "city", "J": "postal_code", "K": "company_name"},
	},
	{
		source: "outlook", headerRow: "1", rows: "2", valid: "2", errorRows: "",
		warnings: "1E kept_aside, 1F kept_aside",
		mapped: map[string]string{"C": "email", "D": "phone", "E": "", "F": "", "G": "street", "H": "city",
			"I": "postal_code", "J": "company_name", "K": "notes"},
	},
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(corpus + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// summarise reads an analysis as the user checks it.
func summarise(an response) (errorRows, warnings string, mapped map[string]string) {
	var errs, warns []string
	for _, e := range an.list("errors") {
		if field(e, "severity") == "error" {
			if r := field(e, "row"); len(errs) == 0 || errs[len(errs)-1] != r {
				errs = append(errs, r)
			}
			continue
		}
		warns = append(warns, field(e, "row")+field(e, "column")+" "+field(e, "code"))
	}
	mapped = map[string]string{}
	for _, m := range an.list("detected", "mapping") {
		f := field(m, "field")
		if f == "(not imported)" {
			f = ""
		}
		mapped[field(m, "column")] = f
	}
	return strings.Join(errs, ", "), strings.Join(warns, ", "), mapped
}

func TestCorpusSavedByLibreOffice(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	editor := a.tenant("corpus")[domain.RoleEditor]
	for _, c := range corpusCases {
		for _, ext := range []string{"csv", "xlsx", "xls", "ods"} {
			name := c.source + "." + ext
			path := name
			if ext == "csv" {
				path = "src/" + name // the CSV LibreOffice read: the same rows as text
			}
			wantWarnings := c.warnings
			if ext != "csv" && c.saved != "" {
				wantWarnings = c.saved
			}
			an := a.upload(editor, name, readCorpus(t, path)).expect(t, http.StatusCreated)
			errorRows, warnings, mapped := summarise(an)
			if an.str("detected", "format") != ext || an.str("detected", "header_row") != c.headerRow ||
				an.str("summary", "rows") != c.rows || an.str("summary", "valid") != c.valid || errorRows != c.errorRows || warnings != wantWarnings {
				t.Errorf("%s: format %s, header row %s, rows %s, valid %s, error rows %q, warnings %q; want %s, %s, %s, %s, %q, %q",
					name, an.str("detected", "format"), an.str("detected", "header_row"), an.str("summary", "rows"),
					an.str("summary", "valid"), errorRows, warnings, ext, c.headerRow, c.rows, c.valid, c.errorRows, wantWarnings)
			}
			for col, want := range c.mapped {
				if mapped[col] != want {
					t.Errorf("%s: column %s -> %q, want %q", name, col, mapped[col], want)
				}
			}
		}
	}

	// No alias fits: refused, and imported once the user maps its columns.
	for _, ext := range []string{"xlsx", "xls", "ods"} {
		name := "no_alias." + ext
		refused := a.upload(editor, name, readCorpus(t, name)).expect(t, http.StatusUnprocessableEntity)
		if refused.errorCode() != "no_email_column" {
			t.Fatalf("%s: %s", name, refused.raw)
		}
		an := a.do("POST", "/v1/imports/"+refused.str("error", "details", "import_id")+"/mapping", editor,
			map[string]any{"mapping": map[string]string{"Adr. post": "email", "Voor": "first_name", "Achter": "last_name", "Stad": "city"}}).
			expect(t, http.StatusOK)
		if an.str("summary", "valid") != "2" || an.str("detected", "format") != ext {
			t.Errorf("%s mapped: %s", name, an.raw)
		}
	}
}

// The template of every language, opened in LibreOffice, filled in by
// typing and saved as .xlsx, .xls and .ods, passes the analysis: headers
// recognised, typed values kept as typed, the bad email found.
func TestTemplateRoundTripThroughLibreOffice(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("roundtrip")
	admin := tokens[domain.RoleAdmin]
	a.do("POST", "/v1/custom-fields", admin, map[string]any{"name": "tier", "type": "choice", "options": []string{"gold", "silver"}}).expect(t, 201)
	files, _ := filepath.Glob(corpus + "template-*.*")
	sort.Strings(files)
	if len(files) != len(domain.TemplateLanguages)*3 {
		t.Fatalf("%d template fixtures; run scripts/make-fixtures.sh", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		an := a.upload(admin, name, readCorpus(t, name)).expect(t, http.StatusCreated)
		errorRows, warnings, mapped := summarise(an)
		if an.str("summary", "rows") != "3" || an.str("summary", "valid") != "2" || errorRows != "4" || warnings != "" ||
			an.str("detected", "sheet") != "Clients" {
			t.Errorf("%s: %s", name, an.raw[:min(len(an.raw), 1500)])
		}
		for col, want := range map[string]string{"A": "kind", "F": "email", "H": "phone", "M": "postal_code", "P": "notes", "AV": "custom:tier"} {
			if mapped[col] != want {
				t.Errorf("%s: column %s -> %q, want %q", name, col, mapped[col], want)
			}
		}
	}

	// What LibreOffice saved is what the user typed.
	an := a.upload(admin, "template-nl.ods", readCorpus(t, "template-nl.ods")).expect(t, http.StatusCreated)
	done := a.execute(admin, an.str("id"), map[string]any{})
	if done.str("counts", "created") != "2" {
		t.Fatalf("execution %s", done.raw)
	}
	acme := a.do("GET", "/v1/clients?q=acme&min_position="+done.str("position"), admin, nil).expect(t, 200).items()
	if len(acme) != 1 {
		t.Fatalf("acme: %v", acme)
	}
	addr, _ := acme[0]["address"].(map[string]any)
	custom, _ := acme[0]["custom_fields"].(map[string]any)
	if field(acme[0], "phone") != "0470 12 34 56" || field(addr, "postal_code") != "1000" || field(acme[0], "vat_number") != "0403170701" ||
		field(acme[0], "notes") != "Client since 2019.\nPays by transfer." || field(custom, "tier") != "gold" {
		t.Errorf("client %v", acme[0])
	}
}
