package spreadsheet

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// --- helpers -------------------------------------------------------------

type readResult struct {
	det  Detected
	rows []Row
	err  error // from Open or Next (io.EOF is not an error)
}

// readFile opens data and reads every row; it fails the test on a panic
// (which Open/Next must never let through).
func readFile(t *testing.T, data []byte, name string, opts Options) readResult {
	t.Helper()
	var res readResult
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic reading %s: %v", name, p)
			}
		}()
		f, err := Open(bytes.NewReader(data), int64(len(data)), name, opts)
		if err != nil {
			res.err = err
			return
		}
		defer f.Close()
		res.det = f.Detected()
		for {
			row, err := f.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				res.err = err
				return
			}
			res.rows = append(res.rows, row)
		}
	}()
	return res
}

func mustRead(t *testing.T, data []byte, name string, opts Options) readResult {
	t.Helper()
	res := readFile(t, data, name, opts)
	if res.err != nil {
		t.Fatalf("read %s: %v", name, res.err)
	}
	return res
}

// wantFileError asserts err is a *FileError with code (and row, when row >= 0).
func wantFileError(t *testing.T, err error, code string, row int) *FileError {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want *FileError %s, got %T %v", code, err, err)
	}
	if fe.Code != code {
		t.Fatalf("want code %s, got %s (%v)", code, fe.Code, fe)
	}
	if row >= 0 && fe.Row != row {
		t.Fatalf("want row %d, got %d (%v)", row, fe.Row, fe)
	}
	if fe.Detail == "" {
		t.Fatalf("error %s has no detail", code)
	}
	return fe
}

func rowsOfCells(rows []Row) map[int][]string {
	m := map[int][]string{}
	for _, r := range rows {
		m[r.Number] = r.Cells
	}
	return m
}

func wantRows(t *testing.T, got []Row, want []Row) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got  %s\n want %s", fmtRows(got), fmtRows(want))
	}
}

func fmtRows(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %d %q", r.Number, r.Cells)
	}
	return b.String()
}

func encodeWith(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

// --- CSV / TXT -----------------------------------------------------------

func TestTextEncodings(t *testing.T) {
	const czech = "Příjmení;Jméno\nDvořák;Šťastný\n"
	const western = "Name;First name\nMüller;José\nGérard;Björn\n"
	utf16le := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	utf16be := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	utf16leNoBOM := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	cases := []struct {
		name     string
		file     string
		data     []byte
		text     string
		encoding string
		bom      bool
	}{
		{"utf-8", "a.csv", []byte(czech), czech, EncUTF8, false},
		{"utf-8 bom", "a.csv", append([]byte("\xEF\xBB\xBF"), czech...), czech, EncUTF8, true},
		{"ascii", "a.csv", []byte("Name;Email\nAda;ada@example.com\n"), "Name;Email\nAda;ada@example.com\n", EncUTF8, false},
		{"utf-16le bom", "a.csv", encodeWith(t, utf16le, czech), czech, EncUTF16LE, true},
		{"utf-16be bom", "a.csv", encodeWith(t, utf16be, czech), czech, EncUTF16BE, true},
		{"utf-16le no bom", "a.csv", encodeWith(t, utf16leNoBOM, western), western, EncUTF16LE, false},
		{"windows-1252", "a.csv", encodeWith(t, charmap.Windows1252, western), western, EncWindows1252, false},
		{"windows-1250", "a.csv", encodeWith(t, charmap.Windows1250, czech), czech, EncWindows1250, false},
		{"windows-1250 longer", "a.csv", encodeWith(t, charmap.Windows1250, "Jméno;Město\nJiří Dvořák;Plzeň\nŠťastný Čeněk;Ústí\n"),
			"Jméno;Město\nJiří Dvořák;Plzeň\nŠťastný Čeněk;Ústí\n", EncWindows1250, false},
		{"windows-1252 french", "a.csv", encodeWith(t, charmap.Windows1252, "Nom;Ville\nHélène Françoise;Liège\nRenée;Besançon\n"),
			"Nom;Ville\nHélène Françoise;Liège\nRenée;Besançon\n", EncWindows1252, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRead(t, tc.data, tc.file, Options{})
			if res.det.Encoding != tc.encoding || res.det.BOM != tc.bom {
				t.Fatalf("detected %s bom=%v, want %s bom=%v", res.det.Encoding, res.det.BOM, tc.encoding, tc.bom)
			}
			want := parseSimple(tc.text, ";")
			wantRows(t, res.rows, want)
		})
	}
}

// parseSimple splits a test text without quotes into rows.
func parseSimple(text, delim string) []Row {
	var rows []Row
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		rows = append(rows, Row{Number: i + 1, Cells: strings.Split(line, delim)})
	}
	return rows
}

func TestTextDelimitersAndQuotes(t *testing.T) {
	for _, d := range []string{";", ",", "\t", "|"} {
		t.Run(fmt.Sprintf("%q", d), func(t *testing.T) {
			// The other candidates appear too, inside quotes and in text, to
			// show they do not fool the detection.
			text := strings.Join([]string{
				"Name" + d + "Note" + d + "City",
				`"Doe` + d + ` John"` + d + `"said ""hi""` + "\n" + `twice"` + d + "Brno",
				"Ada" + d + `"a, b; c | d"` + d + "Praha",
				"Bob" + d + d + "Wien",
			}, "\r\n") + "\r\n"
			res := mustRead(t, []byte(text), "people.csv", Options{})
			if res.det.Delimiter != d {
				t.Fatalf("delimiter %q, want %q", res.det.Delimiter, d)
			}
			wantRows(t, res.rows, []Row{
				{1, []string{"Name", "Note", "City"}},
				{2, []string{"Doe" + d + " John", "said \"hi\"\ntwice", "Brno"}},
				{3, []string{"Ada", "a, b; c | d", "Praha"}},
				{4, []string{"Bob", "", "Wien"}},
			})
		})
	}
}

func TestTextLineEndings(t *testing.T) {
	for _, tc := range []struct{ name, eol string }{{"crlf", "\r\n"}, {"lf", "\n"}, {"cr", "\r"}} {
		t.Run(tc.name, func(t *testing.T) {
			text := "a;b" + tc.eol + "\"x" + tc.eol + "y\";z" + tc.eol + tc.eol + "c;d" + tc.eol
			res := mustRead(t, []byte(text), "f.csv", Options{})
			if res.det.LineEnding != tc.name {
				t.Fatalf("line ending %q, want %q", res.det.LineEnding, tc.name)
			}
			// A line break inside quotes comes out as "\n" whatever the
			// file's line ending; the quoted row counts as one row.
			wantRows(t, res.rows, []Row{{1, []string{"a", "b"}}, {2, []string{"x\ny", "z"}}, {4, []string{"c", "d"}}})
		})
	}
}

func TestTextRowNumbersAndCells(t *testing.T) {
	text := "h1;h2;h3\n\n a ;b;;\n;;\n  ; \t\nlast;\"multi\nline\"\nafter;x\n"
	res := mustRead(t, []byte(text), "f.csv", Options{})
	wantRows(t, res.rows, []Row{
		{1, []string{"h1", "h2", "h3"}},
		{3, []string{" a ", "b"}}, // values untouched, trailing empty cells dropped
		{6, []string{"last", "multi\nline"}},
		{7, []string{"after", "x"}},
	})
}

func TestTextFormatAndSingleColumn(t *testing.T) {
	res := mustRead(t, []byte("Email\nada@example.com\nbob@example.com\n"), "list.csv", Options{})
	if res.det.Format != FormatCSV || res.det.Delimiter != "," {
		t.Fatalf("detected %+v", res.det)
	}
	wantRows(t, res.rows, []Row{{1, []string{"Email"}}, {2, []string{"ada@example.com"}}, {3, []string{"bob@example.com"}}})

	res = mustRead(t, []byte("Name\tEmail\nAda\tada@example.com\n"), "export.TXT", Options{})
	if res.det.Format != FormatTXT || res.det.Delimiter != "\t" {
		t.Fatalf("detected %+v", res.det)
	}
	// A workbook name on a text file: read as the text it is.
	res = mustRead(t, []byte("Name;Email\nAda;a@b.c\n"), "renamed.xlsx", Options{})
	if res.det.Format != FormatCSV || len(res.rows) != 2 {
		t.Fatalf("renamed csv: %+v %v", res.det, res.rows)
	}
}

func TestTextSepHint(t *testing.T) {
	res := mustRead(t, []byte("sep=,\r\na;b,c\r\nd;e,f\r\n"), "excel.csv", Options{})
	if res.det.Delimiter != "," {
		t.Fatalf("delimiter %q", res.det.Delimiter)
	}
	wantRows(t, res.rows, []Row{{1, []string{"a;b", "c"}}, {2, []string{"d;e", "f"}}})
	// The user's choice wins over the hint; the hint line stays hidden.
	res = mustRead(t, []byte("sep=,\na;b,c\n"), "excel.csv", Options{Delimiter: ";"})
	wantRows(t, res.rows, []Row{{1, []string{"a", "b,c"}}})
}

func TestTextOverrides(t *testing.T) {
	data := encodeWith(t, charmap.Windows1252, "a,b;c\nMüller,x;y\n")
	res := mustRead(t, data, "f.dat", Options{Format: FormatTXT, Encoding: "ISO-8859-1", Delimiter: ","})
	want := Detected{Format: FormatTXT, Encoding: EncISO88591, Delimiter: ",", LineEnding: "lf"}
	if !reflect.DeepEqual(res.det, want) {
		t.Fatalf("detected %+v, want %+v", res.det, want)
	}
	wantRows(t, res.rows, []Row{{1, []string{"a", "b;c"}}, {2, []string{"Müller", "x;y"}}})

	res = mustRead(t, []byte("a|b\n"), "f.csv", Options{Delimiter: "tab"})
	if res.det.Delimiter != "\t" || len(res.rows[0].Cells) != 1 {
		t.Fatalf("forced tab: %+v %s", res.det, fmtRows(res.rows))
	}

	// Forcing windows-1250 on a windows-1252 file: the user is obeyed.
	res = mustRead(t, encodeWith(t, charmap.Windows1252, "Gérard;ø\n"), "f.csv", Options{Encoding: "windows-1250"})
	if res.det.Encoding != EncWindows1250 || res.rows[0].Cells[1] != "ř" {
		t.Fatalf("forced 1250: %+v %s", res.det, fmtRows(res.rows))
	}

	// Forcing UTF-8 on a windows-1252 file reports the first bad row.
	res = readFile(t, encodeWith(t, charmap.Windows1252, "Name;City\nAda;Paris\nMüller;Wien\n"), "f.csv", Options{Encoding: "UTF-8"})
	wantFileError(t, res.err, CodeInvalidEncoding, 3)

	for _, opts := range []Options{{Format: "pdf"}, {Encoding: "klingon"}, {Delimiter: "ab"}, {Delimiter: "\""}} {
		res = readFile(t, []byte("a;b\n"), "f.csv", opts)
		wantFileError(t, res.err, CodeInvalidOption, 0)
	}
}

func TestTextQuotingErrors(t *testing.T) {
	cases := []struct {
		name, text, code string
		row              int
	}{
		{"unclosed quote", "a;b\nc;d\n\"open;x\ne;f\n", CodeUnbalancedQuotes, 3},
		{"unclosed quote on last line", "a;b\n\"open;x", CodeUnbalancedQuotes, 2},
		{"bare quote", "a;b\n\n5\" screen;x\n", CodeMalformedCSV, 3},
		{"text after closing quote", "a;b\n\"x\"y;z\nc;d\n", CodeMalformedCSV, 2},
		{"after a multi-line value", "a;b\n\"1\n2\n3\";x\nbad\"q;y\n", CodeMalformedCSV, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readFile(t, []byte(tc.text), "f.csv", Options{})
			wantFileError(t, res.err, tc.code, tc.row)
		})
	}
}

func TestTextHostile(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa")
	rnd := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.IntN(256))
	}
	noNUL := bytes.ReplaceAll(rnd, []byte{0}, []byte{1})
	cases := []struct {
		name string
		file string
		data []byte
		code string
		row  int
	}{
		{"empty", "a.csv", nil, CodeEmptyFile, 0},
		{"bom only", "a.csv", []byte("\xEF\xBB\xBF"), CodeEmptyFile, 0},
		{"whitespace only", "a.csv", []byte(" \r\n\t\n"), CodeEmptyFile, 0},
		{"utf-16 bom and spaces", "a.csv", []byte("\xFF\xFE \x00\n\x00"), CodeEmptyFile, 0},
		{"png named csv", "clients.csv", png, CodeBinaryContent, 0},
		{"random bytes", "clients.csv", rnd, CodeBinaryContent, 0},
		{"random bytes without NUL", "clients.txt", noNUL, CodeBinaryContent, 0},
		{"random bytes named xlsx", "clients.xlsx", rnd, CodeCorruptWorkbook, 0},
		{"png named png", "photo.png", png, CodeUnsupportedFormat, 0},
		{"pdf", "clients.csv", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), CodeUnsupportedFormat, 0},
		{"html named xls", "export.xls", []byte("<html><body><table><tr><td>a</td></tr></table></body></html>"), CodeUnsupportedFormat, 0},
		{"mixed utf-8", "a.csv", []byte("Name;City\nJosé;Brno\nRenée;Praha\nM\xfcller;Wien\nZoë;Gent\n"), CodeInvalidEncoding, 4},
		{"NUL in utf-16 text", "a.csv", encodeWith(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "a;b\nc\x00;d\n"), CodeBinaryContent, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readFile(t, tc.data, tc.file, Options{})
			wantFileError(t, res.err, tc.code, tc.row)
		})
	}
}

func TestTextHugeCell(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	quoted := strings.Repeat("ab\"\"", 1<<20) // quotes inside a quoted value
	text := "h1;h2\n" + big + ";y\n\"" + quoted + "\";z\n"
	start := time.Now()
	f, err := Open(bytes.NewReader([]byte(text)), int64(len(text)), "big.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []Row
	var cuts []map[int]int
	for {
		r, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows, cuts = append(rows, r), append(cuts, f.Cut())
	}
	// Each huge cell is cut to MaxCellBytes, its length counted; the
	// cells after it and the rows after it are read as they are.
	if len(rows) != 3 || rows[1].Cells[0] != big[:MaxCellBytes] || rows[1].Cells[1] != "y" ||
		rows[2].Cells[0] != strings.ReplaceAll(quoted, "\"\"", "\"")[:MaxCellBytes/4*3] || rows[2].Cells[1] != "z" {
		t.Fatalf("huge cells not cut as expected (%d rows)", len(rows))
	}
	if cuts[0] != nil || cuts[1][0] != 10<<20 || cuts[2][0] != 3<<20 || len(cuts[2]) != 1 {
		t.Fatalf("cut cells %v", cuts)
	}
	if rows[2].Number != 3 || f.Detected().Delimiter != ";" {
		t.Fatalf("row %d, delimiter %q", rows[2].Number, f.Detected().Delimiter)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("reading a 10 MB cell took %v", d)
	}
}

func TestDetectEncodingScores(t *testing.T) {
	// Only č/è differ: a tie, which stays windows-1252.
	st, err := scanBytes(bytes.NewReader([]byte("Nov\xe1k Ku\xe8era")), 0, 12)
	if err != nil || st.guess() != EncWindows1252 {
		t.Fatalf("tie: %v %v", st.guess(), err)
	}
	// An invalid byte split across the scan's 64 KiB chunks is counted once.
	data := append(bytes.Repeat([]byte("a"), 64<<10-1), "\xc3\xa9 ok"...)
	st, err = scanBytes(bytes.NewReader(data), 0, int64(len(data)))
	if err != nil || st.invalid != 0 || st.multibyte != 1 {
		t.Fatalf("chunk boundary: %+v %v", st, err)
	}
}

// --- XLSX ----------------------------------------------------------------

func xlsxBytes(t *testing.T, f *excelize.File, opts ...excelize.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf, opts...); err != nil {
		t.Fatalf("write xlsx: %v", err)
	}
	return buf.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// clientsWorkbook has an Instructions sheet first and the data in "Clients".
func clientsWorkbook(t *testing.T) *excelize.File {
	f := excelize.NewFile()
	must(t, f.SetSheetName("Sheet1", "Instructions"))
	must(t, f.SetCellValue("Instructions", "A1", "Fill in the Clients sheet"))
	_, err := f.NewSheet("Clients")
	must(t, err)
	set := func(cell string, v any) { must(t, f.SetCellValue("Clients", cell, v)) }
	set("A1", "Name")
	set("B1", "Born")
	set("C1", "Updated")
	set("D1", "Phone")
	set("E1", "Score")
	set("F1", "Group")
	set("A2", "Dvořák")
	set("B2", time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC))
	set("C2", time.Date(2024, 3, 1, 14, 30, 0, 0, time.UTC))
	set("D2", 420777123456)
	set("E2", 0.1+0.2)
	set("F2", "North")
	set("A3", "Müller")
	set("B3", 45657) // a date serial in a date-formatted cell
	set("D3", 123456789)
	set("E3", 12.5)
	// Row 4 empty. Row 5..6: F5:F7 merged vertically, A5:B5 horizontally.
	set("A5", "Merged")
	set("F5", "South")
	must(t, f.MergeCell("Clients", "A5", "B5"))
	must(t, f.MergeCell("Clients", "F5", "F7"))
	set("A6", "Six")
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(t, err)
	custom := "dd.mm.yyyy hh:mm"
	dtStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	must(t, err)
	must(t, f.SetCellStyle("Clients", "B2", "B3", dateStyle))
	must(t, f.SetCellStyle("Clients", "C2", "C2", dtStyle))
	// Styled but empty cells far right and far down: trailing, to be dropped.
	border, err := f.NewStyle(&excelize.Style{Border: []excelize.Border{{Type: "left", Color: "000000", Style: 1}}})
	must(t, err)
	must(t, f.SetCellStyle("Clients", "A8", "M20", border))
	must(t, f.SetCellValue("Clients", "K9", "   "))
	return f
}

func TestXLSXClients(t *testing.T) {
	data := xlsxBytes(t, clientsWorkbook(t))
	res := mustRead(t, data, "clients.xlsx", Options{PreferredSheet: "Clients"})
	want := Detected{Format: FormatXLSX, Sheet: "Clients", Sheets: []string{"Instructions", "Clients"}}
	if !reflect.DeepEqual(res.det, want) {
		t.Fatalf("detected %+v", res.det)
	}
	wantRows(t, res.rows, []Row{
		{1, []string{"Name", "Born", "Updated", "Phone", "Score", "Group"}},
		{2, []string{"Dvořák", "1980-05-17", "2024-03-01 14:30", "420777123456", "0.3", "North"}},
		{3, []string{"Müller", "2024-12-31", "", "123456789", "12.5"}},
		{5, []string{"Merged", "Merged", "", "", "", "South"}},
		{6, []string{"Six", "", "", "", "", "South"}},
		{7, []string{"", "", "", "", "", "South"}},
	})
}

func TestXLSXSheetChoice(t *testing.T) {
	data := xlsxBytes(t, clientsWorkbook(t))
	cases := []struct {
		name  string
		opts  Options
		sheet string
		code  string
	}{
		{"preferred", Options{PreferredSheet: "Clients"}, "Clients", ""},
		{"preferred ignores case", Options{PreferredSheet: "CLIENTS"}, "Clients", ""},
		{"first non-empty", Options{}, "Instructions", ""},
		{"preferred missing", Options{PreferredSheet: "Klienten"}, "Instructions", ""},
		{"named", Options{Sheet: "Instructions", PreferredSheet: "Clients"}, "Instructions", ""},
		{"unknown", Options{Sheet: "Data"}, "", CodeUnknownSheet},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readFile(t, data, "c.xlsx", tc.opts)
			if tc.code != "" {
				fe := wantFileError(t, res.err, tc.code, 0)
				if !strings.Contains(fe.Detail, "Instructions, Clients") {
					t.Fatalf("detail does not list the sheets: %q", fe.Detail)
				}
				return
			}
			if res.err != nil || res.det.Sheet != tc.sheet {
				t.Fatalf("sheet %q err %v, want %q", res.det.Sheet, res.err, tc.sheet)
			}
		})
	}

	// Empty first sheet, hidden second: the visible third one is taken.
	f := excelize.NewFile()
	for _, s := range []string{"Lookup", "Data"} {
		_, err := f.NewSheet(s)
		must(t, err)
	}
	must(t, f.SetCellValue("Lookup", "A1", "x"))
	must(t, f.SetCellValue("Data", "B2", "y"))
	must(t, f.SetSheetVisible("Lookup", false))
	res := mustRead(t, xlsxBytes(t, f), "d.xlsx", Options{})
	if res.det.Sheet != "Data" || !reflect.DeepEqual(res.rows, []Row{{2, []string{"", "y"}}}) {
		t.Fatalf("got %q %s", res.det.Sheet, fmtRows(res.rows))
	}

	// No cell anywhere.
	f = excelize.NewFile()
	_, err := f.NewSheet("Other")
	must(t, err)
	res = readFile(t, xlsxBytes(t, f), "e.xlsx", Options{})
	wantFileError(t, res.err, CodeEmptyWorkbook, 0)
}

// handmadeXLSX builds a minimal package around the given sheet XML, with
// shared strings and styles, for what excelize does not write (cached
// formula results, inline strings, 1904 dates, broken XML).
func handmadeXLSX(t *testing.T, sheetData string, sst string, date1904 bool) []byte {
	t.Helper()
	wbPr := ""
	if date1904 {
		wbPr = `<workbookPr date1904="1"/>`
	}
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			wbPr + `<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
		"xl/sharedStrings.xml": `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`,
		"xl/styles.xml": `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			`<numFmts count="2"><numFmt numFmtId="164" formatCode="[$-405]d\.\ mmmm\ yyyy"/><numFmt numFmtId="165" formatCode="#,##0.00\ &quot;Kč&quot;"/></numFmts>` +
			`<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>` +
			`<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="20"/></cellXfs></styleSheet>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			sheetData + `</x:worksheet>`,
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range parts {
		w, err := zw.Create(name)
		must(t, err)
		_, err = w.Write([]byte(content))
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

func TestXLSXCellKinds(t *testing.T) {
	sst := `<si><t xml:space="preserve"> padded </t></si><si><r><t>Rich </t></r><r><rPr><b/></rPr><t>text</t></r><rPh sb="0" eb="1"><t>ふり</t></rPh></si><si><t>line_x000D__x000A_break</t></si>`
	sheet := `<x:sheetData>
<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c><x:c r="C1" t="s"><x:v>2</x:v></x:c></x:row>
<x:row r="2"><x:c r="A2"><x:v>21</x:v></x:c><x:c r="B2"><x:f>A2*2</x:f><x:v>42</x:v></x:c><x:c r="C2" t="str"><x:f>"id-"&amp;A2</x:f><x:v>id-21</x:v></x:c><x:c r="D2" t="b"><x:v>1</x:v></x:c><x:c r="E2" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c></x:row>
<x:row r="3"><x:c r="A3" t="inlineStr"><x:is><x:t>inline</x:t></x:is></x:c><x:c r="B3" s="1"><x:v>1</x:v></x:c><x:c r="C3" s="2"><x:v>45000.5</x:v></x:c><x:c r="D3" s="3"><x:v>1234.5</x:v></x:c><x:c r="E3" s="4"><x:v>0.75</x:v></x:c></x:row>
<x:row><x:c t="d"><x:v>2024-02-29T00:00:00Z</x:v></x:c><x:c><x:v>1.2345678901234567E+16</x:v></x:c><x:c><x:v>4.2E-3</x:v></x:c></x:row>
</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A3:A3"/></x:mergeCells>`
	res := mustRead(t, handmadeXLSX(t, sheet, sst, false), "h.xlsx", Options{})
	wantRows(t, res.rows, []Row{
		{1, []string{" padded ", "Rich text", "line\r\nbreak"}},
		{2, []string{"21", "42", "id-21", "TRUE", "#DIV/0!"}},
		{3, []string{"inline", "1900-01-01", "2023-03-15 12:00", "1234.5", "18:00"}},
		{4, []string{"2024-02-29", "12345678901234600", "0.0042"}},
	})

	// A whole column merged: stored rows get the value, no rows are made up.
	sheet = `<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>all</x:t></x:is></x:c></x:row><x:row r="3"><x:c r="B3"><x:v>3</x:v></x:c></x:row></x:sheetData>` +
		`<x:mergeCells count="1"><x:mergeCell ref="A1:A1048576"/></x:mergeCells>`
	res = mustRead(t, handmadeXLSX(t, sheet, "", false), "h.xlsx", Options{})
	wantRows(t, res.rows, []Row{{1, []string{"all"}}, {3, []string{"all", "3"}}})

	// The same serials in the 1904 date system.
	sheet = `<x:sheetData><x:row r="1"><x:c r="A1" s="1"><x:v>0</x:v></x:c><x:c r="B1" s="1"><x:v>43538</x:v></x:c></x:row></x:sheetData>`
	res = mustRead(t, handmadeXLSX(t, sheet, "", true), "h.xlsx", Options{})
	wantRows(t, res.rows, []Row{{1, []string{"1904-01-01", "2023-03-15"}}})
}

func TestXLSXDamaged(t *testing.T) {
	good := xlsxBytes(t, clientsWorkbook(t))
	broken := handmadeXLSX(t, `<x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row><x:row r="2"><x:c r="A2"><x:v>1</x:v></x:row></x:sheetData>`, `<si><t>a</t></si>`, false)
	badIndex := handmadeXLSX(t, `<x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>7</x:v></x:c></x:row></x:sheetData>`, `<si><t>a</t></si>`, false)
	badRef := handmadeXLSX(t, `<x:sheetData><x:row r="1"><x:c r="ZZZZ1"><x:v>1</x:v></x:c></x:row></x:sheetData>`, ``, false)

	var notWorkbook, ods bytes.Buffer
	zw := zip.NewWriter(&notWorkbook)
	w, _ := zw.Create("hello.txt")
	_, _ = w.Write([]byte("hello"))
	must(t, zw.Close())
	zw = zip.NewWriter(&ods)
	w, _ = zw.Create("mimetype")
	_, _ = w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
	w, _ = zw.Create("content.xml")
	_, _ = w.Write([]byte("<office:document-content/>"))
	must(t, zw.Close())

	protected := xlsxBytes(t, clientsWorkbook(t), excelize.Options{Password: "secret"})

	cases := []struct {
		name string
		data []byte
		opts Options
		code string
		row  int
	}{
		{"truncated", good[:len(good)/2], Options{}, CodeCorruptWorkbook, 0},
		{"truncated forced", good[:len(good)/2], Options{Format: FormatXLSX}, CodeCorruptWorkbook, 0},
		{"broken sheet xml", broken, Options{}, CodeCorruptWorkbook, 2},
		{"bad shared string index", badIndex, Options{}, CodeCorruptWorkbook, -1},
		{"bad cell reference", badRef, Options{}, CodeCorruptWorkbook, -1},
		{"zip that is not a workbook", notWorkbook.Bytes(), Options{}, CodeUnsupportedFormat, 0},
		{"ods without sheets", ods.Bytes(), Options{}, CodeCorruptWorkbook, 0},
		{"password protected", protected, Options{}, CodePasswordProtected, 0},
		{"password protected forced xlsx", protected, Options{Format: FormatXLSX}, CodePasswordProtected, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := readFile(t, tc.data, "c.xlsx", tc.opts)
			wantFileError(t, res.err, tc.code, tc.row)
		})
	}
}

func TestXLSXZipBomb(t *testing.T) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	must(t, err)
	for i := 1; i <= 5000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		must(t, sw.SetRow(cell, []any{"same text again and again", i}))
	}
	must(t, sw.Flush())
	data := xlsxBytes(t, f)

	oldTotal, oldPart := unzipSizeLimit, unzipXMLSizeLimit
	t.Cleanup(func() { unzipSizeLimit, unzipXMLSizeLimit = oldTotal, oldPart })
	unzipSizeLimit, unzipXMLSizeLimit = 128<<10, 128<<10
	if len(data) >= 128<<10 {
		t.Fatalf("the fixture must be smaller than the limit it unpacks beyond: %d bytes", len(data))
	}
	res := readFile(t, data, "bomb.xlsx", Options{})
	wantFileError(t, res.err, CodeWorkbookTooLarge, 0)

	unzipSizeLimit, unzipXMLSizeLimit = oldTotal, oldPart
	res = mustRead(t, data, "bomb.xlsx", Options{})
	if len(res.rows) != 5000 || res.rows[4999].Number != 5000 {
		t.Fatalf("read %d rows", len(res.rows))
	}
}

// --- XLS -----------------------------------------------------------------

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	must(t, err)
	return b
}

func TestXLSFixture(t *testing.T) {
	data := readFixture(t, "read_clients.xls")
	res := mustRead(t, data, "read_clients.xls", Options{PreferredSheet: "Clients"})
	want := Detected{Format: FormatXLS, Sheet: "Clients", Sheets: []string{"Notes", "Clients"}}
	if !reflect.DeepEqual(res.det, want) {
		t.Fatalf("detected %+v", res.det)
	}
	wantRows(t, res.rows, []Row{
		{1, []string{"External ID", "Name", "First name", "Email", "Phone", "Born", "Score", "Total"}},
		{2, []string{"C-001", "Dvořák", "Příjmení Šťastný", "dvorak@example.cz", "420777123456", "1980-05-17", "12.5", "25"}},
		{3, []string{"C-002", "Müller", "José", "jose@example.com", "123456789", "2024-12-31", "7", "14"}},
		{5, []string{"C-003", "Merged", "Merged"}},
	})

	res = mustRead(t, data, "renamed.bin", Options{})
	if res.det.Sheet != "Notes" || !reflect.DeepEqual(res.rows, []Row{{1, []string{"notes"}}}) {
		t.Fatalf("first non-empty sheet: %q %s", res.det.Sheet, fmtRows(res.rows))
	}
	res = readFile(t, data, "c.xls", Options{Sheet: "Kunden"})
	wantFileError(t, res.err, CodeUnknownSheet, 0)

	res = readFile(t, data[:len(data)/2], "c.xls", Options{})
	wantFileError(t, res.err, CodeCorruptWorkbook, -1)
}

// biffRec encodes one BIFF record.
func biffRec(id uint16, data []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func TestXLSGlobals(t *testing.T) {
	bof := biffRec(recBOF, []byte{0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0})
	stream := append(append(bof, biffRec(recFilePass, make([]byte, 54))...), biffRec(recEOF, nil)...)
	_, err := readGlobals(newBIFFReader(bytes.NewReader(stream)))
	wantFileError(t, err, CodePasswordProtected, 0)

	old := append(biffRec(recBOF, []byte{0x00, 0x05, 0x05, 0x00}), biffRec(recEOF, nil)...)
	_, err = readGlobals(newBIFFReader(bytes.NewReader(old)))
	wantFileError(t, err, CodeUnsupportedFormat, 0)

	_, err = readGlobals(newBIFFReader(bytes.NewReader(bof[:5])))
	wantFileError(t, err, CodeCorruptWorkbook, 0)
}

func TestXLSSharedStringsAcrossContinue(t *testing.T) {
	// Two strings: "Dvořák" starts 16-bit in the SST record and continues
	// 8-bit in a CONTINUE record (with its own option byte); "ab" follows.
	sst := []byte{2, 0, 0, 0, 2, 0, 0, 0}
	sst = append(sst, 6, 0, 0x01)                      // cch=6, 16-bit
	sst = append(sst, 'D', 0, 'v', 0, 'o', 0, 0x59, 1) // D v o ř
	cont := []byte{0x00, 0xE1, 'k'}                    // option: 8-bit; á k
	cont = append(cont, 2, 0, 0, 'a', 'b')
	got, err := readSST([][]byte{sst, cont})
	if err != nil || !reflect.DeepEqual(got, []string{"Dvořák", "ab"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := readSST([][]byte{sst}); err == nil {
		t.Fatal("a string cut short must fail")
	}
	huge := []byte{0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F}
	if _, err := readSST([][]byte{huge}); err == nil {
		t.Fatal("a lying string count must fail, not allocate")
	}
}

// TestXLSLongCellIsCut: a BIFF string may hold 65,535 characters; beyond
// MaxCellBytes the cell is cut like any other and its length reported.
func TestXLSLongCellIsCut(t *testing.T) {
	long := strings.Repeat("é", 40_000)
	f := &File{src: &xlsSheetSource{g: &xlsGlobals{sst: []string{"dupont@example.be", long}}, rr: newBIFFReader(bytes.NewReader(bytes.Join([][]byte{
		biffRec(recBOF, []byte{0x00, 0x06, 0x10, 0x00}),
		biffRec(recLabelSST, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}), // row 2, column A: string 0
		biffRec(recLabelSST, []byte{1, 0, 2, 0, 0, 0, 1, 0, 0, 0}), // row 2, column C: string 1
		biffRec(recEOF, nil),
	}, nil)))}}
	row, err := f.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row.Number != 2 || row.Cells[0] != "dupont@example.be" || len(row.Cells[2]) != MaxCellBytes || !strings.HasPrefix(long, row.Cells[2]) {
		t.Fatalf("row %d: %d cells, the long one %d bytes", row.Number, len(row.Cells), len(row.Cells[2]))
	}
	if cut := f.Cut(); len(cut) != 1 || cut[2] != 40_000 {
		t.Fatalf("cut cells %v; want column 2 of 40000 characters", cut)
	}
}

func TestRKValue(t *testing.T) {
	cases := map[uint32]float64{
		0x3FF00000:                1, // the high bits of 1.0
		0x3FF00001:                0.01,
		uint32(1234<<2 | 2):       1234,
		uint32(1234<<2 | 3):       12.34,
		uint32(0xFFFFFFFC&^1 | 2): -1,
	}
	for rk, want := range cases {
		if got := rkValue(rk); got != want {
			t.Errorf("rk %#x = %v, want %v", rk, got, want)
		}
	}
}

// --- formats -------------------------------------------------------------

func TestClassifyNumFmt(t *testing.T) {
	cases := []struct {
		id   int
		code string
		want dateKind
	}{
		{14, "", dateFmt}, {22, "", dateFmt}, {20, "", timeOnly}, {46, "", timeOnly},
		{0, "", notDate}, {49, "", notDate}, {4, "", notDate},
		{164, "yyyy-mm-dd", dateFmt},
		{164, "[$-405]d. mmmm yyyy", dateFmt},
		{164, "mmm-yy", dateFmt},
		{164, "h:mm AM/PM", timeOnly},
		{164, "[h]:mm", timeOnly},
		{164, "mm:ss", timeOnly},
		{164, `#,##0.00 "Kč"`, notDate},
		{164, `0.00E+00`, notDate},
		{164, `[Red]#,##0;[Blue]-#,##0`, notDate},
		{164, `\d0`, notDate},
		{164, `"day" 0`, notDate},
		{164, `_-* #,##0\ _K_č_-`, notDate},
		{164, `General`, notDate},
		{164, `0;"date"d`, notDate},
	}
	for _, tc := range cases {
		if got := classifyNumFmt(tc.id, tc.code, tc.code != ""); got != tc.want {
			t.Errorf("%d %q = %v, want %v", tc.id, tc.code, got, tc.want)
		}
	}
}

func TestSerialAndNumbers(t *testing.T) {
	dates := []struct {
		serial float64
		kind   dateKind
		want   string
	}{
		{1, dateFmt, "1900-01-01"}, {59, dateFmt, "1900-02-28"}, {61, dateFmt, "1900-03-01"},
		{45000, dateFmt, "2023-03-15"}, {45000.25, dateFmt, "2023-03-15 06:00"},
		{45000.000011574, dateFmt, "2023-03-15 00:00:01"}, {0.5, timeOnly, "12:00"},
	}
	for _, d := range dates {
		if got, ok := serialToISO(d.serial, false, d.kind); !ok || got != d.want {
			t.Errorf("serial %v = %q, want %q", d.serial, got, d.want)
		}
	}
	if _, ok := serialToISO(-1, false, dateFmt); ok {
		t.Error("negative serial must stay a number")
	}
	if got := formatNumberCell("-3", dateFmt, false); got != "-3" {
		t.Errorf("negative date serial shown as %q", got)
	}
	numbers := map[float64]string{123456789: "123456789", 420777123456: "420777123456", 0.1 + 0.2: "0.3", -0.0: "0", 1e-7: "0.0000001", 1234567890123456789: "1234567890123460000"}
	for f, want := range numbers {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// --- robustness ------------------------------------------------------------

// TestNeverPanics feeds damaged variants of every format: whatever the
// damage, the reader answers with rows or a *FileError, never a panic.
func TestNeverPanics(t *testing.T) {
	seeds := map[string][]byte{
		"x.xls":  readFixture(t, "read_clients.xls"),
		"x.xlsx": xlsxBytes(t, clientsWorkbook(t)),
		"x.csv":  []byte("a;\"b\"\nc;d\r\n\"e\nf\";g\n"),
		"lo.ods": readFixture(t, "corpus/template-fr.ods"),
		"x.ods": handmadeODS(t, `<style:style style:name="ta1" style:family="table"><style:table-properties table:display="false"/></style:style>`,
			`<table:table table:name="Clients"><table:table-row table:number-rows-repeated="2">`+odsCell("float", ` office:value="1000"`, "1000")+
				odsCell("string", ` table:number-columns-spanned="2" table:number-rows-spanned="2"`, "m")+`<table:covered-table-cell/></table:table-row></table:table>`, nil),
	}
	r := rand.New(rand.NewPCG(7, 11))
	for name, seed := range seeds {
		for i := 0; i < 300; i++ {
			data := append([]byte(nil), seed...)
			switch i % 3 {
			case 0: // flip bytes
				for k := 0; k < 1+r.IntN(20); k++ {
					data[r.IntN(len(data))] = byte(r.IntN(256))
				}
			case 1: // cut
				data = data[:r.IntN(len(data))]
			case 2: // overwrite a block with one byte value
				at, n := r.IntN(len(data)), 1+r.IntN(512)
				for k := at; k < min(len(data), at+n); k++ {
					data[k] = byte(i)
				}
			}
			res := readFile(t, data, name, Options{PreferredSheet: "Clients"})
			if res.err != nil {
				var fe *FileError
				if !errors.As(res.err, &fe) {
					t.Fatalf("%s variant %d: error is %T %v, not a *FileError", name, i, res.err, res.err)
				}
			}
		}
	}
}

func TestFileErrorAndClose(t *testing.T) {
	e := &FileError{Code: CodeMalformedCSV, Detail: "broken", Row: 3}
	if e.Error() != "spreadsheet: malformed_csv: broken (row 3)" {
		t.Fatalf("Error() = %q", e.Error())
	}
	f, err := Open(strings.NewReader("a;b\n"), 4, "a.csv", Options{})
	must(t, err)
	must(t, f.Close())
	if _, err := f.Next(); err == nil || err == io.EOF {
		t.Fatalf("Next after Close: %v", err)
	}
	must(t, f.Close())
}
