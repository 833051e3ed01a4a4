package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/clientreg/clientreg/domain"
)

// TestChooseTheSheetAndTheHeaderRow: a workbook whose clients are on its
// second sheet, under a title: the user picks the sheet and the header row
// and the file is read again.
func TestChooseTheSheetAndTheHeaderRow(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	f := excelize.NewFile()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "2025"))
	must(f.SetSheetRow("2025", "A1", &[]any{"Email", "First name"}))
	must(f.SetSheetRow("2025", "A2", &[]any{"old@example.be", "Olga"}))
	_, err := f.NewSheet("2026")
	must(err)
	must(f.SetSheetRow("2026", "A1", &[]any{"Clients 2026 (export of 5 January)"}))
	must(f.SetSheetRow("2026", "A3", &[]any{"Email", "First name", "Last name"}))
	must(f.SetSheetRow("2026", "A4", &[]any{"anna@example.be", "Anna", "Peeters"}))
	must(f.SetSheetRow("2026", "A5", &[]any{"bram@example.be", "Bram", "Claes"}))
	file := filepath.Join(t.TempDir(), "clients.xlsx")
	must(f.SaveAs(file))

	do(t, tab, chromedp.Navigate(a.base+"/imports/new"), chromedp.WaitVisible(chromedp.CSS("[data-dropzone]")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), leaving(),
		chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#found-h")))
	if got := text(t, tab, ".detected"); !strings.Contains(got, "2025") {
		t.Fatalf("detected %q", got)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "1\nrows") {
		t.Errorf("first sheet counts %q", got)
	}
	do(t, tab, chromedp.Click(chromedp.CSS(".read-choices summary")), chromedp.WaitVisible(chromedp.CSS("#sheet")),
		chromedp.SetValue(chromedp.CSS("#sheet"), "2026"), chromedp.SetValue(chromedp.CSS("#header_row"), "3"))
	shot(t, tab, "choices")
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(".read-form button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#found-h")))
	detected := text(t, tab, ".detected")
	if !strings.Contains(detected, "2026") || !strings.Contains(detected, "Header on row\n3") {
		t.Errorf("read again: %q", detected)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "2\nrows") || !strings.Contains(got, "2\nto create") {
		t.Errorf("second sheet counts %q", got)
	}
	for col, want := range map[string]string{"A": "email", "B": "first_name", "C": "last_name"} {
		if got := run(t, tab, chromedp.Value(chromedp.CSS("#map-"+col))); got != want {
			t.Errorf("column %s becomes %q, want %q", col, got, want)
		}
	}
	shot(t, tab, "read-again")
}

// TestChooseTheDelimiterAndEncodingOfACSV: a wrong delimiter is refused
// with the reason and changes nothing; the right one and another encoding
// read the file again.
func TestChooseTheDelimiterAndEncodingOfACSV(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	file := filepath.Join(t.TempDir(), "clients.csv")
	if err := os.WriteFile(file, []byte("Email,First name\nanna@example.be,Anna\nchloe@example.be,Chlo\xe9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.Navigate(a.base+"/imports/new"), chromedp.WaitVisible(chromedp.CSS("[data-dropzone]")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), leaving(),
		chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#found-h")))
	do(t, tab, chromedp.Click(chromedp.CSS(".read-choices summary")), chromedp.WaitVisible(chromedp.CSS("#delimiter")),
		chromedp.SetValue(chromedp.CSS("#delimiter"), ";"), leaving(),
		chromedp.Click(chromedp.CSS(".read-form button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#mapping-error")))
	if got := text(t, tab, "#mapping-error"); !strings.Contains(got, "No column holds the email address") {
		t.Errorf("wrong delimiter: %q", got)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "2\nrows") {
		t.Errorf("the refused reading changed the analysis: %q", got)
	}
	do(t, tab, chromedp.Click(chromedp.CSS(".read-choices summary")), chromedp.WaitVisible(chromedp.CSS("#delimiter")),
		chromedp.SetValue(chromedp.CSS("#delimiter"), ","), chromedp.SetValue(chromedp.CSS("#encoding"), "windows-1252"), leaving(),
		chromedp.Click(chromedp.CSS(".read-form button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(t, tab, ".detected"); !strings.Contains(got, "windows-1252") || !strings.Contains(got, ",") {
		t.Errorf("read again: %q", got)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "2\nto create") {
		t.Errorf("counts %q", got)
	}
	shot(t, tab, "encoding")
}

// TestMapAFileWithoutHeaders: a file refused because no column was
// recognised shows its first rows as columns A, B, C with their values;
// the user says the first row is a client, maps the columns, and the
// file is checked again with every row.
func TestMapAFileWithoutHeaders(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte("Anna;Peeters;anna@example.be\nBram;Claes;bram@example.be\nChloé;Dubois;chloe@example.be\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.Navigate(a.base+"/imports/new"), chromedp.WaitVisible(chromedp.CSS("[data-dropzone]")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), leaving(),
		chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#columns-h")))
	if got := text(t, tab, ".alert"); !strings.Contains(got, "No column holds the email address") {
		t.Errorf("refusal %q", got)
	}
	for i, want := range []string{"A\nAnna\nBram\nChloé", "B\nPeeters\nClaes\nDubois", "C\nanna@example.be\nbram@example.be\nchloe@example.be"} {
		row := run(t, tab, chromedp.Evaluate[string](`document.querySelectorAll(".preview tbody tr")[`+string(rune('0'+i))+`].innerText`))
		if !strings.HasPrefix(strings.Join(strings.Fields(strings.ReplaceAll(row, "\t", "\n")), "\n"), strings.Join(strings.Fields(want), "\n")) {
			t.Errorf("column %d shows %q, want %q", i, row, want)
		}
	}
	do(t, tab, chromedp.Click(chromedp.CSS(`input[name=first_row][value=data]`)),
		chromedp.SetValue(chromedp.CSS("#map-A"), "first_name"), chromedp.SetValue(chromedp.CSS("#map-B"), "last_name"),
		chromedp.SetValue(chromedp.CSS("#map-C"), "email"))
	shot(t, tab, "columns")
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS(".preview-form button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#found-h")))
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "3\nrows") || !strings.Contains(got, "3\nto create") {
		t.Errorf("mapped file counts %q (the first row is a client)", got)
	}
	if got := text(t, tab, ".detected"); !strings.Contains(got, "no header") {
		t.Errorf("detected %q", got)
	}
	shot(t, tab, "mapped")
}
