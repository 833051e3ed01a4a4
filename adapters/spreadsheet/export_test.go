package spreadsheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestEscapeFormula(t *testing.T) {
	cases := map[string]string{
		"":                   "",
		"Dupont":             "Dupont",
		"=1+2":               "'=1+2",
		"+32 470 12 34 56":   "'+32 470 12 34 56", // deliberate: OWASP, see EscapeFormula
		"-5":                 "'-5",
		"@SUM(A1)":           "'@SUM(A1)",
		"\t=cmd":             "'\t=cmd",
		"\r=cmd":             "'\r=cmd",
		"a=b":                "a=b",
		"'already":           "'already",
		`=HYPERLINK("x")`:    `'=HYPERLINK("x")`,
		"marie@example.be":   "marie@example.be",
		" =not at the start": " =not at the start",
	}
	for in, want := range cases {
		got := EscapeFormula(in)
		if got != want {
			t.Errorf("EscapeFormula(%q) = %q; want %q", in, got, want)
		}
		if back := UnescapeFormula(got); back != in {
			t.Errorf("UnescapeFormula(%q) = %q; want %q", got, back, in)
		}
	}
	// A user's own leading apostrophe is not ours to remove.
	if got := UnescapeFormula("'t Hof"); got != "'t Hof" {
		t.Errorf("UnescapeFormula(\"'t Hof\") = %q", got)
	}
}

func rowsOf(rows ...RejectedRow) iter.Seq2[RejectedRow, error] {
	return func(yield func(RejectedRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

var sampleRejected = []RejectedRow{
	{Number: 3, Cells: []string{"marie@example", "Marie", "+32 470 12 34 56"}, Reason: "Row 3: not a valid email address"},
	{Number: 7, Cells: []string{"=HYPERLINK(\"http://evil\")", "Jan; \"Janneke\""}, Reason: "-"},
	{Number: 9, Cells: []string{"a@b.be", "Ann", "0470", "extra", "@more"}, Reason: "ragged"},
}

func TestWriteRejectedCSV(t *testing.T) {
	var buf bytes.Buffer
	header := []string{"E-mail", "Prénom", "Téléphone"}
	if err := WriteRejectedCSV(&buf, header, "Raison", rowsOf(sampleRejected...)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	body, ok := strings.CutPrefix(out, "\uFEFF")
	if !ok {
		t.Fatalf("no UTF-8 BOM: %q", out[:10])
	}
	if strings.Count(body, "\r\n") != 4 || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
		t.Errorf("want 4 CRLF-ended lines, got %q", body)
	}
	r := csv.NewReader(strings.NewReader(body))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"E-mail", "Prénom", "Téléphone", "Raison"},
		{"marie@example", "Marie", "'+32 470 12 34 56", "Row 3: not a valid email address"},
		{"'=HYPERLINK(\"http://evil\")", "Jan; \"Janneke\"", "", "'-"},
		{"a@b.be", "Ann", "0470", "ragged", "extra", "'@more"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("CSV rows:\n got %q\nwant %q", got, want)
	}
}

func TestWriteRejectedStopsOnIteratorError(t *testing.T) {
	boom := errors.New("read failed")
	rows := func(yield func(RejectedRow, error) bool) {
		if yield(sampleRejected[0], nil) {
			yield(RejectedRow{}, boom)
		}
	}
	var buf bytes.Buffer
	if err := WriteRejectedCSV(&buf, []string{"a"}, "why", rows); !errors.Is(err, boom) {
		t.Errorf("CSV: got %v; want %v", err, boom)
	}
	if err := WriteRejectedXLSX(&buf, []string{"a"}, "why", rows); !errors.Is(err, boom) {
		t.Errorf("XLSX: got %v; want %v", err, boom)
	}
}

func TestWriteRejectedXLSX(t *testing.T) {
	var buf bytes.Buffer
	header := []string{"E-mail", "Prénom", "Téléphone"}
	if err := WriteRejectedXLSX(&buf, header, "Raison", rowsOf(sampleRejected...)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{TemplateSheet}) {
		t.Errorf("sheets = %v", sheets)
	}
	got, err := f.GetRows(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"E-mail", "Prénom", "Téléphone", "Raison"},
		{"marie@example", "Marie", "'+32 470 12 34 56", "Row 3: not a valid email address"},
		{"'=HYPERLINK(\"http://evil\")", "Jan; \"Janneke\"", "", "'-"},
		{"a@b.be", "Ann", "0470", "ragged", "extra", "'@more"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("XLSX rows:\n got %q\nwant %q", got, want)
	}
	// Values are text cells, never formulas.
	if formula, _ := f.GetCellFormula(TemplateSheet, "A3"); formula != "" {
		t.Errorf("A3 holds a formula %q", formula)
	}
	panes, err := f.GetPanes(TemplateSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v, %v", panes, err)
	}
}

// 100,000 rows stream through without holding them as cells. The sheet is
// checked in its XML, not re-read with excelize, to keep the test quick.
func TestWriteRejectedXLSXManyRows(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 rows")
	}
	const n = 100_000
	rows := func(yield func(RejectedRow, error) bool) {
		for i := range n {
			r := RejectedRow{Number: i + 2, Cells: []string{fmt.Sprintf("c%d@example", i), "Name", "+32 470"}, Reason: "invalid email"}
			if !yield(r, nil) {
				return
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteRejectedXLSX(&buf, []string{"Email", "Name", "Phone"}, "Reason", rows); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	xml, err := io.ReadAll(sheet)
	if err != nil {
		t.Fatal(err)
	}
	last := fmt.Sprintf("c%d@example", n-1)
	if got := bytes.Count(xml, []byte("<row ")); got != n+1 || !bytes.Contains(xml, []byte(last)) ||
		bytes.Count(xml, []byte("&#39;+32 470")) != n && bytes.Count(xml, []byte("'+32 470")) != n {
		t.Errorf("sheet has %d rows; want %d, the last %q, every phone escaped", got, n+1, last)
	}
}
