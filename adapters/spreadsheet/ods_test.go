package spreadsheet

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// handmadeODS packs content.xml's body (the office:spreadsheet element's
// children) as LibreOffice would; styles are the automatic styles.
func handmadeODS(t *testing.T, styles, body string, extra map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	must(t, err)
	_, _ = w.Write([]byte(odsMimeType))
	w, err = zw.Create("content.xml")
	must(t, err)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3">
<office:automatic-styles>` + styles + `</office:automatic-styles>
<office:body><office:spreadsheet>` + body + `</office:spreadsheet></office:body></office:document-content>`))
	for name, content := range extra {
		w, err = zw.Create(name)
		must(t, err)
		_, _ = w.Write([]byte(content))
	}
	must(t, zw.Close())
	return buf.Bytes()
}

func odsCell(typ, attrs, text string) string {
	if typ == "" {
		return `<table:table-cell` + attrs + `><text:p>` + text + `</text:p></table:table-cell>`
	}
	return `<table:table-cell office:value-type="` + typ + `" calcext:value-type="` + typ + `"` + attrs + `><text:p>` + text + `</text:p></table:table-cell>`
}

func TestODSCellKinds(t *testing.T) {
	body := `<table:table table:name="Clients"><table:table-column table:number-columns-repeated="1024"/>
<table:table-row>` + odsCell("string", "", "Postal code") + odsCell("string", "", "Phone") + odsCell("string", "", "Born") +
		odsCell("string", "", "Time") + odsCell("string", "", "Share") + odsCell("string", "", "VIP") + odsCell("string", "", "Note") + `</table:table-row>
<table:table-row>` +
		odsCell("float", ` office:value="1000"`, "1,000.00") +
		odsCell("float", ` office:value="32475123456"`, "3.25E+10") +
		odsCell("date", ` office:date-value="1980-05-17"`, "17/05/80") +
		odsCell("time", ` office:time-value="PT14H30M00S"`, "02:30 PM") +
		odsCell("percentage", ` office:value="0.15"`, "15%") +
		odsCell("boolean", ` office:boolean-value="true"`, "TRUE") +
		`<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>Kerkstraat<text:s text:c="2"/>7</text:p><text:p>bus <text:span text:style-name="T1">2</text:span></text:p><office:annotation><text:p>a comment</text:p></office:annotation></table:table-cell>` +
		`<table:table-cell table:number-columns-repeated="1017"/></table:table-row>
<table:table-row>` + odsCell("date", ` office:date-value="2024-03-31T10:15:00"`, "31/03/24 10:15") + odsCell("currency", ` office:value="12.5" office:currency="EUR"`, "€12.50") + `</table:table-row>
<table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table>`
	res := mustRead(t, handmadeODS(t, "", body, nil), "clients.ods", Options{})
	if res.det.Format != FormatODS || res.det.Sheet != "Clients" {
		t.Fatalf("detected %+v", res.det)
	}
	wantRows(t, res.rows, []Row{
		{1, []string{"Postal code", "Phone", "Born", "Time", "Share", "VIP", "Note"}},
		{2, []string{"1000", "32475123456", "1980-05-17", "14:30", "0.15", "TRUE", "Kerkstraat  7\nbus 2"}},
		{3, []string{"2024-03-31 10:15", "12.5"}},
	})
}

// LibreOffice writes the unused rest of a sheet as repetitions; a row or
// cell repeated with content is read as that many rows or cells, and a
// million repeated rows cost no memory.
func TestODSRepetitions(t *testing.T) {
	body := `<table:table table:name="Sheet1">
<table:table-row>` + odsCell("string", "", "Email") + odsCell("string", ` table:number-columns-repeated="2"`, "same") + `<table:table-cell table:number-columns-repeated="3"/>` + odsCell("float", "", "") + odsCell("string", "", "last") + `</table:table-row>
<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
<table:table-row table:number-rows-repeated="2">` + odsCell("string", "", "twice") + `</table:table-row>
<table:table-header-rows><table:table-row>` + odsCell("string", "", "in a group") + `</table:table-row></table:table-header-rows>
<table:table-row table:number-rows-repeated="1048567"><table:table-cell table:number-columns-repeated="1000000000"/></table:table-row>
</table:table>`
	res := mustRead(t, handmadeODS(t, "", body, nil), "s.ods", Options{})
	wantRows(t, res.rows, []Row{
		{1, []string{"Email", "same", "same", "", "", "", "", "last"}},
		{5, []string{"twice"}},
		{6, []string{"twice"}},
		{7, []string{"in a group"}},
	})

	// Content repeated past the grid is a damaged sheet, not a million rows.
	body = `<table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="2000000">` + odsCell("string", "", "x") + `</table:table-row></table:table>`
	res = readFile(t, handmadeODS(t, "", body, nil), "s.ods", Options{})
	wantFileError(t, res.err, CodeCorruptWorkbook, 1)
	// A cell repeated a billion times stops at the last column.
	body = `<table:table table:name="Sheet1"><table:table-row>` + odsCell("string", ` table:number-columns-repeated="1000000000"`, "x") + `</table:table-row></table:table>`
	res = mustRead(t, handmadeODS(t, "", body, nil), "s.ods", Options{})
	if len(res.rows) != 1 || len(res.rows[0].Cells) != maxXLSXCols {
		t.Fatalf("read %d rows, %d cells", len(res.rows), len(res.rows[0].Cells))
	}
}

func TestODSMergedCells(t *testing.T) {
	body := `<table:table table:name="Sheet1">
<table:table-row>` + odsCell("string", "", "Name") + odsCell("string", "", "City") + odsCell("string", "", "Email") + `</table:table-row>
<table:table-row>` + odsCell("string", "", "Jan") + odsCell("string", ` table:number-rows-spanned="3"`, "Gent") + odsCell("string", "", "jan@example.be") + `</table:table-row>
<table:table-row>` + odsCell("string", "", "An") + `<table:covered-table-cell/>` + odsCell("string", "", "an@example.be") + `</table:table-row>
<table:table-row><table:table-cell/><table:covered-table-cell/></table:table-row>
<table:table-row>` + odsCell("string", ` table:number-columns-spanned="2"`, "Wide") + `<table:covered-table-cell><text:p>hidden</text:p></table:covered-table-cell></table:table-row>
</table:table>`
	res := mustRead(t, handmadeODS(t, "", body, nil), "m.ods", Options{})
	wantRows(t, res.rows, []Row{
		{1, []string{"Name", "City", "Email"}},
		{2, []string{"Jan", "Gent", "jan@example.be"}},
		{3, []string{"An", "Gent", "an@example.be"}},
		{4, []string{"", "Gent"}},
		{5, []string{"Wide", "Wide"}},
	})
}

func TestODSSheetChoice(t *testing.T) {
	styles := `<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>
<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>`
	body := `<table:table table:name="Empty" table:style-name="ta1"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>
<table:table table:name="Lists" table:style-name="ta2"><table:table-row>` + odsCell("string", "", "hidden") + `</table:table-row></table:table>
<table:table table:name="Data" table:style-name="ta1"><table:table-row>` + odsCell("string", "", "data") + `</table:table-row></table:table>
<table:table table:name="Clients" table:style-name="ta1"><table:table-row>` + odsCell("string", "", "clients") + `</table:table-row></table:table>`
	data := handmadeODS(t, styles, body, nil)
	for _, tc := range []struct {
		opts  Options
		sheet string
	}{
		{Options{}, "Data"},
		{Options{PreferredSheet: "Clients"}, "Clients"},
		{Options{Sheet: "lists"}, "Lists"},
	} {
		res := mustRead(t, data, "s.ods", tc.opts)
		if res.det.Sheet != tc.sheet || len(res.rows) != 1 || res.rows[0].Cells[0] != strings.ToLower(tc.sheet) && tc.sheet != "Lists" {
			t.Errorf("%+v: sheet %q rows %s", tc.opts, res.det.Sheet, fmtRows(res.rows))
		}
		if strings.Join(res.det.Sheets, ",") != "Empty,Lists,Data,Clients" {
			t.Errorf("sheets %q", res.det.Sheets)
		}
	}
	res := readFile(t, data, "s.ods", Options{Sheet: "Kunden"})
	wantFileError(t, res.err, CodeUnknownSheet, 0)
}

func TestODSRefusals(t *testing.T) {
	good := handmadeODS(t, "", `<table:table table:name="S"><table:table-row>`+odsCell("string", "", "a")+`</table:table-row></table:table>`, nil)
	encrypted := handmadeODS(t, "", "", map[string]string{"META-INF/manifest.xml": `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>`})
	broken := handmadeODS(t, "", `<table:table table:name="S"><table:table-row>`+odsCell("string", "", "a")+`</table:table-row><table:table-row><table:table-cell></table:table-row></table:table>`, nil)

	var text bytes.Buffer
	zw := zip.NewWriter(&text)
	w, _ := zw.Create("mimetype")
	_, _ = w.Write([]byte("application/vnd.oasis.opendocument.text"))
	must(t, zw.Close())

	cases := []struct {
		name string
		data []byte
		opts Options
		code string
		row  int
	}{
		{"truncated", good[:len(good)/2], Options{}, CodeCorruptWorkbook, 0},
		{"no sheets", handmadeODS(t, "", "", nil), Options{}, CodeCorruptWorkbook, 0},
		{"broken row", broken, Options{}, CodeCorruptWorkbook, 2},
		{"password", encrypted, Options{}, CodePasswordProtected, 0},
		{"text document", text.Bytes(), Options{}, CodeUnsupportedFormat, 0},
		{"text document forced ods", text.Bytes(), Options{Format: FormatODS}, CodeUnsupportedFormat, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readFile(t, tc.data, "c.ods", tc.opts)
			wantFileError(t, res.err, tc.code, tc.row)
		})
	}
	// Named .xlsx, or forced to xlsx, it is still read as what it is.
	for _, opts := range []Options{{}, {Format: FormatXLSX}} {
		if res := mustRead(t, good, "renamed.xlsx", opts); res.det.Format != FormatODS || len(res.rows) != 1 {
			t.Errorf("%+v: %+v %s", opts, res.det, fmtRows(res.rows))
		}
	}
}

func TestODSZipBomb(t *testing.T) {
	row := `<table:table-row>` + odsCell("string", "", "same text again and again") + odsCell("float", ` office:value="7"`, "7") + `</table:table-row>`
	data := handmadeODS(t, "", `<table:table table:name="S">`+strings.Repeat(row, 5000)+`</table:table>`, nil)
	oldTotal, oldPart := unzipSizeLimit, unzipXMLSizeLimit
	t.Cleanup(func() { unzipSizeLimit, unzipXMLSizeLimit = oldTotal, oldPart })
	unzipSizeLimit, unzipXMLSizeLimit = 128<<10, 128<<10
	if len(data) >= 128<<10 {
		t.Fatalf("the fixture must be smaller than the limit it unpacks beyond: %d bytes", len(data))
	}
	res := readFile(t, data, "bomb.ods", Options{})
	wantFileError(t, res.err, CodeWorkbookTooLarge, 0)

	unzipSizeLimit, unzipXMLSizeLimit = oldTotal, oldPart
	res = mustRead(t, data, "bomb.ods", Options{})
	if len(res.rows) != 5000 || res.rows[4999].Number != 5000 || res.rows[4999].Cells[1] != "7" {
		t.Fatalf("read %d rows", len(res.rows))
	}
}

func TestFormatODSTime(t *testing.T) {
	for in, want := range map[string]string{"PT14H30M00S": "14:30", "PT00H00M05S": "00:00:05", "PT36H": "36:00",
		"PT1H2M3.6S": "01:02:04", "P1D": "P1D", "PTxH": "PTxH"} {
		if got := formatODSTime(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// An ODS saved by LibreOffice itself (scripts/make-fixtures.sh): numbers
// it stored as numbers come back as their digits, cells written on two
// lines keep their line break.
func TestODSSavedByLibreOffice(t *testing.T) {
	res := mustRead(t, readFixture(t, "corpus/dutch_excel.ods"), "klanten.ods", Options{})
	if res.det.Format != FormatODS || res.det.Sheet != "dutch_excel" {
		t.Fatalf("detected %+v", res.det)
	}
	wantRows(t, res.rows, []Row{
		{1, []string{"Voornaam", "Achternaam", "E-mail", "Straat", "Postcode", "Gemeente", "GSM", "Opmerkingen"}},
		{2, []string{"Jan", "Peeters", "jan@example.be", "Kerkstraat 7\nbus 2", "9000", "Gent", "475123456", "Belt liever 's avonds;\nspreekt Frans."}},
		{3, []string{"Anne\nMarie", "Claes", "anne@example.be", "Grote Markt 1", "2000", "Antwerpen", "0496 12 34 56"}},
		{4, []string{"Piet", "Smet", "piet@example", "Dorpstraat 3", "8500", "Kortrijk", "", "Klant sinds 2019."}},
	})
}
