package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
)

var sampleCustom = []CustomColumn{
	{Name: "vip", Type: domain.CustomChoice, Options: []string{"Gold", "Silver"}},
	{Name: "score", Type: domain.CustomNumber},
	{Name: "since", Type: domain.CustomDate},
	{Name: "notes", Type: domain.CustomText},
	// Named like a built-in header: the template must not confuse them.
	{Name: "type", Type: domain.CustomText},
}

// checkHeaders: every header of a template maps back to its column, the
// custom fields last, so a template uploaded as is passes the mapping.
func checkHeaders(t *testing.T, spec TemplateSpec, headers []string) {
	t.Helper()
	want := domain.TemplateColumns(spec.Layout)
	if len(headers) != len(want)+len(spec.Custom) {
		t.Fatalf("%s/%s: %d headers; want %d", spec.Layout, spec.Lang, len(headers), len(want)+len(spec.Custom))
	}
	for i, col := range want {
		got, ok := domain.MatchHeader(headers[i], spec.Layout)
		if !ok || got != col {
			t.Errorf("%s/%s: header %q maps to %q, %v; want %q", spec.Layout, spec.Lang, headers[i], got.Key(), ok, col.Key())
		}
	}
	for i, c := range spec.Custom {
		h := headers[len(want)+i]
		got, ok := domain.MatchHeader(h, spec.Layout)
		if ok && got.Custom != c.Name {
			t.Errorf("custom header %q maps to %q", h, got.Key())
		}
		if !ok && h != c.Name {
			t.Errorf("custom header %q; want %q", h, c.Name)
		}
	}
}

func allSpecs() []TemplateSpec {
	var specs []TemplateSpec
	for _, layout := range []domain.Layout{domain.LayoutClients, domain.LayoutContacts} {
		for _, lang := range append(slices.Clone(domain.TemplateLanguages), "xx") {
			specs = append(specs, TemplateSpec{Layout: layout, Lang: lang, Custom: sampleCustom})
		}
	}
	return specs
}

func TestTemplateCSV(t *testing.T) {
	for _, spec := range allSpecs() {
		var buf bytes.Buffer
		if err := WriteTemplateCSV(&buf, spec); err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(buf.String(), "\uFEFF")
		if !ok || !strings.HasSuffix(body, "\r\n") || strings.Count(body, "\n") != 1 {
			t.Fatalf("%s/%s: want BOM and one CRLF line, got %q", spec.Layout, spec.Lang, buf.String())
		}
		r := csv.NewReader(strings.NewReader(body))
		r.Comma = ';'
		headers, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		checkHeaders(t, spec, headers)
	}
	var buf bytes.Buffer
	_ = WriteTemplateCSV(&buf, TemplateSpec{Lang: "fr"})
	if !strings.HasPrefix(buf.String(), "\uFEFFType;Prénom;Nom;Société;") {
		t.Errorf("French CSV template starts %q", buf.String()[:40])
	}
}

func openTemplate(t *testing.T, spec TemplateSpec) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTemplateXLSX(&buf, spec); err != nil {
		t.Fatalf("%s/%s: %v", spec.Layout, spec.Lang, err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestTemplateXLSXHeaders(t *testing.T) {
	for _, spec := range allSpecs() {
		f := openTemplate(t, spec)
		if f.GetSheetName(0) != TemplateSheet || f.GetActiveSheetIndex() != 0 {
			t.Errorf("%s/%s: first sheet %q, active %d", spec.Layout, spec.Lang, f.GetSheetName(0), f.GetActiveSheetIndex())
		}
		rows, err := f.GetRows(TemplateSheet)
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s/%s: rows %v, %v", spec.Layout, spec.Lang, rows, err)
		}
		checkHeaders(t, spec, rows[0])
	}
}

func TestTemplateXLSXLayout(t *testing.T) {
	spec := TemplateSpec{Layout: domain.LayoutClients, Lang: "nl", Custom: sampleCustom}
	f := openTemplate(t, spec)

	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{TemplateSheet, "Instructies"}) {
		t.Errorf("sheets = %v", sheets)
	}
	panes, err := f.GetPanes(TemplateSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v, %v", panes, err)
	}
	styleID, _ := f.GetCellStyle(TemplateSheet, "A1")
	style, err := f.GetStyle(styleID)
	if err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("header not bold: %+v, %v", style, err)
	}
	if w, _ := f.GetColWidth(TemplateSheet, "A"); w < 12 {
		t.Errorf("column A width %v", w)
	}
	// Phone numbers and enterprise numbers stay text: "0470" keeps its 0.
	phone := colOf(t, spec, domain.Column{Kind: domain.ColumnClient, Field: domain.FieldPhone})
	if s := columnStyle(t, f, phone); s.NumFmt != textFormat {
		t.Errorf("phone column format %d; want text", s.NumFmt)
	}
	since := colOf(t, spec, domain.Column{Kind: domain.ColumnCustom, Custom: "since"})
	if s := columnStyle(t, f, since); s.CustomNumFmt == nil || *s.CustomNumFmt != "yyyy-mm-dd" {
		t.Errorf("date column format %+v", s.CustomNumFmt)
	}

	dvs, err := f.GetDataValidations(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	bySqref := map[string]*excelize.DataValidation{}
	for _, dv := range dvs {
		for _, ref := range strings.Fields(dv.Sqref) {
			bySqref[ref] = dv
		}
	}
	check := func(col domain.Column, typ, formula string) {
		t.Helper()
		ref := colOf(t, spec, col) + "2:" + colOf(t, spec, col) + "100001"
		dv := bySqref[ref]
		if dv == nil {
			t.Errorf("%s: no validation on %s", col.Key(), ref)
			return
		}
		if dv.Type != typ || (formula != "" && dv.Formula1 != formula) {
			t.Errorf("%s: validation %s %q; want %s %q", col.Key(), dv.Type, dv.Formula1, typ, formula)
		}
	}
	check(domain.Column{Kind: domain.ColumnClient, Field: domain.FieldKind}, "list", `"person,company"`)
	check(domain.Column{Kind: domain.ColumnClient, Field: domain.FieldLanguage}, "list", `"fr,nl,en,de,cs,it,es,pl,sk,pt"`)
	check(domain.Column{Kind: domain.ColumnCustom, Custom: "vip"}, "list", `"Gold,Silver"`)
	check(domain.Column{Kind: domain.ColumnCustom, Custom: "score"}, "decimal", "")
	check(domain.Column{Kind: domain.ColumnCustom, Custom: "since"}, "date", "")
	check(domain.Column{Kind: domain.ColumnClient, Field: domain.FieldEmail}, "textLength", "")
	check(domain.Column{Kind: domain.ColumnContact, Contact: 6, ContactField: "role"}, "textLength", "")
	check(domain.Column{Kind: domain.ColumnCustom, Custom: "notes"}, "textLength", "")
}

func colOf(t *testing.T, spec TemplateSpec, col domain.Column) string {
	t.Helper()
	for i, c := range spec.columns() {
		if c.column == col {
			name, _ := excelize.ColumnNumberToName(i + 1)
			return name
		}
	}
	t.Fatalf("no column %s", col.Key())
	return ""
}

func columnStyle(t *testing.T, f *excelize.File, col string) *excelize.Style {
	t.Helper()
	id, err := f.GetColStyle(TemplateSheet, col)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Options with commas, quotes or too many characters for an inline list go
// to the hidden lists sheet, kept exactly as defined.
func TestTemplateLongChoiceLists(t *testing.T) {
	many := make([]string, 60)
	for i := range many {
		many[i] = "Option number " + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	spec := TemplateSpec{Lang: "en", Custom: []CustomColumn{
		{Name: "segment", Type: domain.CustomChoice, Options: many},
		{Name: "terms", Type: domain.CustomChoice, Options: []string{"30 days, net", `"cash"`, "=SUM"}},
	}}
	f := openTemplate(t, spec)
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{TemplateSheet, "Instructions", listsSheet}) {
		t.Fatalf("sheets = %v", sheets)
	}
	if visible, _ := f.GetSheetVisible(listsSheet); visible {
		t.Error("lists sheet is visible")
	}
	cols, err := f.GetCols(listsSheet)
	for i := range cols { // GetCols pads short columns
		for len(cols[i]) > 0 && cols[i][len(cols[i])-1] == "" {
			cols[i] = cols[i][:len(cols[i])-1]
		}
	}
	if err != nil || len(cols) != 2 || !slices.Equal(cols[0], many) || !slices.Equal(cols[1], spec.Custom[1].Options) {
		t.Errorf("lists = %q, %v", cols, err)
	}
	dvs, _ := f.GetDataValidations(TemplateSheet)
	var formulas []string
	for _, dv := range dvs {
		formulas = append(formulas, dv.Formula1)
	}
	for _, want := range []string{"Lists!$A$1:$A$60", "Lists!$B$1:$B$3"} {
		if !slices.Contains(formulas, want) {
			t.Errorf("no drop-down from %s in %q", want, formulas)
		}
	}
}

func TestTemplateInstructions(t *testing.T) {
	cases := []struct {
		lang, sheet string
		layout      domain.Layout
		says        []string
	}{
		{"en", "Instructions", domain.LayoutClients, []string{"one row per client", "BE0123.456.749", "255", "up to 6", "dry run",
			"External ID", "vip (choice: Gold, Silver)", "since (date, YYYY-MM-DD)", "custom:type (text)"}},
		{"fr", "Instructions", domain.LayoutClients, []string{"une ligne par client", "Obligatoire", "jusqu'à 6", "simulation", "vip (choix : Gold, Silver)"}},
		{"nl", "Instructies", domain.LayoutContacts, []string{"één rij per contactpersoon", "Verplicht", "proefrun", "Contactpersoon …"}},
		{"cs", "Pokyny", domain.LayoutClients, []string{"jeden řádek pro každého klienta", "Povinné", "zkušební běh"}},
		{"de", "Anleitung", domain.LayoutClients, []string{"eine Zeile pro Kunde", "Pflicht", "Probelauf"}},
		{"es", "Instructions", domain.LayoutClients, []string{"one row per client"}},
	}
	for _, c := range cases {
		spec := TemplateSpec{Layout: c.layout, Lang: c.lang, Custom: sampleCustom}
		f := openTemplate(t, spec)
		rows, err := f.GetRows(c.sheet)
		if err != nil {
			t.Errorf("%s: %v", c.lang, err)
			continue
		}
		var text strings.Builder
		for _, r := range rows {
			text.WriteString(strings.Join(r, " ") + "\n")
		}
		for _, s := range c.says {
			if !strings.Contains(text.String(), s) {
				t.Errorf("%s instructions do not say %q:\n%s", c.lang, s, text.String())
			}
		}
	}
}

// The texts of every language are complete: an empty one would print a
// blank rule or an empty prompt.
func TestTemplateTextsComplete(t *testing.T) {
	for lang, tx := range templateTextsByLang {
		for i, s := range []string{tx.sheet, tx.title, tx.rowsClients, tx.rowsContacts, tx.required, tx.kind, tx.language,
			tx.country, tx.vat, tx.phone, tx.length, tx.contactsClients, tx.contactsContacts, tx.customNone, tx.customSome,
			tx.externalID, tx.dryRun, tx.sheetsRead, tx.dateFormat, tx.kindPrompt, tx.languagePrompt, tx.choicePrompt,
			tx.numberPrompt, tx.datePrompt, tx.listError, tx.languageError, tx.numberError, tx.dateError, tx.textError} {
			if s == "" {
				t.Errorf("%s: text %d is empty", lang, i)
			}
			if len([]rune(s)) > 255 && i >= 20 {
				t.Errorf("%s: validation message %d over Excel's 255 characters", lang, i)
			}
		}
		if len(tx.types) != 4 {
			t.Errorf("%s: type names %v", lang, tx.types)
		}
	}
}

// A template filled in and uploaded as is passes the mapping and the row
// checks: the headers are what the import recognises, the formats keep
// values as typed.
func TestFilledTemplatePassesAnalysis(t *testing.T) {
	custom := domain.NewCustomFieldSet(uuid.New())
	var columns []CustomColumn
	for _, c := range []CustomColumn{
		{Name: "vip", Type: domain.CustomChoice, Options: []string{"Gold", "Silver"}},
		{Name: "score", Type: domain.CustomNumber},
		{Name: "since", Type: domain.CustomDate},
		{Name: "type", Type: domain.CustomText},
	} {
		def, err := domain.NewCustomFieldDefinition(c.Name, c.Type, c.Options)
		if err != nil {
			t.Fatal(err)
		}
		if err := custom.Define(def); err != nil {
			t.Fatal(err)
		}
		columns = append(columns, c)
	}
	values := map[string]any{
		"kind": "company", "company_name": "ACME", "email": "info@acme.be", "language": "fr",
		"phone": "0470 12 34 56", "vat_number": "BE0403.170.701", "postal_code": "1000", "city": "Bruxelles",
		"country": "BE", "external_id": "A-1", "contact1_first_name": "Marie", "contact1_last_name": "Dupont",
		"contact1_email": "marie@acme.be", "contact2_last_name": "Peeters", "custom:vip": "Gold",
		"custom:score": 12.5, "custom:since": time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), "custom:type": "x",
	}
	for _, lang := range domain.TemplateLanguages {
		spec := TemplateSpec{Layout: domain.LayoutClients, Lang: lang, Custom: columns}
		f := openTemplate(t, spec)
		for i, c := range spec.columns() {
			v, ok := values[c.column.Key()]
			if !ok {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(i+1, 2)
			if err := f.SetCellValue(TemplateSheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
		since := colOf(t, spec, domain.Column{Kind: domain.ColumnCustom, Custom: "since"}) + "2"
		dateStyle, _ := f.GetColStyle(TemplateSheet, since[:len(since)-1])
		_ = f.SetCellStyle(TemplateSheet, since, since, dateStyle) // as Excel does: the column's format
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		analyse(t, lang, buf.Bytes(), "filled.xlsx", custom)
	}
}

func analyse(t *testing.T, lang string, content []byte, name string, custom *domain.CustomFieldSet) {
	t.Helper()
	file, err := Open(bytes.NewReader(content), int64(len(content)), name, Options{PreferredSheet: TemplateSheet})
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	defer file.Close()
	header, err := file.Next()
	if err != nil {
		t.Fatal(err)
	}
	mapping, issues, err := domain.MapColumns(header.Cells, domain.MappingOptions{Layout: domain.LayoutClients}, custom)
	if err != nil || len(issues) > 0 {
		t.Fatalf("%s: mapping: %v %+v", lang, err, issues)
	}
	data, err := file.Next()
	if err != nil {
		t.Fatal(err)
	}
	row := mapping.Read(data.Number, data.Cells, custom)
	if len(row.Issues) > 0 {
		t.Errorf("%s: row issues %+v (cells %q)", lang, row.Issues, data.Cells)
	}
	want := map[domain.Field]string{domain.FieldKind: "company", domain.FieldCompanyName: "ACME", domain.FieldPhone: "0470 12 34 56",
		domain.FieldVATNumber: "0403170701", domain.FieldPostalCode: "1000", domain.FieldCountry: "BE"}
	for f, v := range want {
		if row.Client.Details[f] != v {
			t.Errorf("%s: %s = %q; want %q", lang, f, row.Client.Details[f], v)
		}
	}
	if got := row.Client.CustomFields; got["vip"] != "Gold" || got["score"] != "12.5" || got["since"] != "2024-03-31" || got["type"] != "x" {
		t.Errorf("%s: custom fields %v", lang, got)
	}
	if len(row.Contacts) != 2 || row.Contacts[0]["email"] != "marie@acme.be" || row.Ref == nil || row.Ref.ExternalID != "A-1" {
		t.Errorf("%s: contacts %v, ref %+v", lang, row.Contacts, row.Ref)
	}
}

// The CSV template, with a row typed under its header, passes too.
func TestFilledCSVTemplatePassesAnalysis(t *testing.T) {
	custom := domain.NewCustomFieldSet(uuid.New())
	spec := TemplateSpec{Layout: domain.LayoutContacts, Lang: "nl"}
	var buf bytes.Buffer
	if err := WriteTemplateCSV(&buf, spec); err != nil {
		t.Fatal(err)
	}
	cells := make([]string, len(spec.columns()))
	for i, c := range spec.columns() {
		cells[i] = map[string]string{"email": "jan@example.be", "first_name": "Jan", "last_name": "Peeters",
			"contact_first_name": "An", "contact_role": "Boekhouder"}[c.column.Key()]
	}
	buf.WriteString(strings.Join(cells, ";") + "\r\n")
	file, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "template.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	header, _ := file.Next()
	mapping, issues, err := domain.MapColumns(header.Cells, domain.MappingOptions{Layout: domain.LayoutContacts}, custom)
	if err != nil || len(issues) > 0 {
		t.Fatalf("mapping: %v %+v", err, issues)
	}
	data, _ := file.Next()
	row := mapping.Read(data.Number, data.Cells, custom)
	if len(row.Issues) > 0 || len(row.Contacts) != 1 || row.Contacts[0]["role"] != "Boekhouder" {
		t.Errorf("row %+v", row)
	}
}
