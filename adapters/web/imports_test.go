package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clientreg/clientreg/domain"
)

// fetchText fetches a URL from the page, with its cookies, as a download
// link would.
func fetchText(t *testing.T, tab context.Context, url string) string {
	t.Helper()
	return run(t, tab, chromedp.Evaluate[string](`fetch(`+quote(url)+`).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func TestImportAFileWithErrorsRunItAndUndoItFromTheHistory(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleAdmin)
	file := filepath.Join(t.TempDir(), "newsletter.csv")
	if err := os.WriteFile(file, []byte("First name;Last name;Email;Phone\n"+
		"Anna;Peeters;anna@example.be;+32 9 123 45 67\n"+
		"Bram;Claes;not-an-email;\n"+
		"Chloé;Dubois;chloe@example.be;\n"+
		"Dirk;Engels;dirk@example.be;\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// 1-2. The wizard's first page offers the template and takes the file.
	do(t, tab, chromedp.Navigate(a.base+"/imports"), chromedp.Click(chromedp.CSS(`a[href="/imports/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-dropzone]")))
	if got := fetchText(t, tab, "/imports/template?layout=clients&lang=fr&format=csv"); !strings.Contains(got, "Prénom") {
		t.Errorf("French CSV template starts %q", got[:min(len(got), 80)])
	}
	do(t, tab, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		chromedp.WaitVisible(chromedp.CSS("[data-filename]")))
	if got := text(t, tab, "[data-filename]"); got != "newsletter.csv" {
		t.Errorf("chosen file shown as %q", got)
	}
	shot(t, tab, "upload")

	// 3. The analysis: what was found, the columns, the error with its place.
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#issues")))
	stats := text(t, tab, "#found-h + .stats")
	for _, want := range []string{"4\nrows", "3\nto create", "1\nwith errors"} {
		if !strings.Contains(stats, want) {
			t.Errorf("counts %q lack %q", stats, want)
		}
	}
	if got := text(t, tab, ".detected"); !strings.Contains(got, "csv") || !strings.Contains(got, ";") {
		t.Errorf("detected %q", got)
	}
	for col, want := range map[string]string{"A": "first_name", "B": "last_name", "C": "email", "D": "phone"} {
		if got := run(t, tab, chromedp.Value(chromedp.CSS("#map-"+col))); got != want {
			t.Errorf("column %s becomes %q, want %q", col, got, want)
		}
	}
	issue := text(t, tab, "#issues tbody tr")
	for _, want := range []string{"3", "C", "Email", "not-an-email", "is not a valid email address"} {
		if !strings.Contains(issue, want) {
			t.Errorf("issue row %q lacks %q", issue, want)
		}
	}
	shot(t, tab, "analysis")
	href := run(t, tab, chromedp.Evaluate[string](`document.querySelector('a[href$="/rejected.csv"]').getAttribute("href")`))
	if got := fetchText(t, tab, href); !strings.Contains(got, "Bram;Claes;not-an-email") {
		t.Errorf("rejected rows file %q", got)
	}

	// 4-6. Mode and a new list, run, the report.
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#new_list"), "Newsletter"), leaving(),
		chromedp.Click(chromedp.CSS(`form[action$="/execute"] button[type=submit]`)), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#report-h")))
	report := text(t, tab, "#report-h ~ .stats")
	if !strings.Contains(report, "3\ncreated") {
		t.Errorf("report %q", report)
	}
	if got := text(t, tab, "#report-h ~ p .chips"); got != "Newsletter" {
		t.Errorf("lists %q", got)
	}
	shot(t, tab, "report")

	// The history lists it; Undo asks, then reports.
	do(t, tab, chromedp.Navigate(a.base+"/imports"), chromedp.WaitVisible(chromedp.CSS("tbody tr")))
	row := text(t, tab, "tbody tr")
	for _, want := range []string{"newsletter.csv", "admin@office.test", "Imported", "3 created"} {
		if !strings.Contains(row, want) {
			t.Errorf("history row %q lacks %q", row, want)
		}
	}
	shot(t, tab, "history")
	do(t, tab, chromedp.Click(chromedp.CSS("tbody tr a")), chromedp.WaitVisible(chromedp.CSS(`[data-dialog="undo-dialog"]`)),
		chromedp.Click(chromedp.CSS(`[data-dialog="undo-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#undo-dialog")))
	if got := text(t, tab, "#undo-dialog p"); !strings.HasPrefix(got, "Clients this import created are deleted") {
		t.Errorf("undo dialog %q", got)
	}
	shotViewport(t, tab, "undo-dialog")
	do(t, tab, leaving(), chromedp.Click(chromedp.CSS("#undo-dialog .btn-danger")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#undo-h")))
	if got := text(t, tab, "#undo-h + .stats"); !strings.Contains(got, "3\ndeleted") {
		t.Errorf("undo report %q", got)
	}
	shot(t, tab, "undone")
	do(t, tab, chromedp.Navigate(a.base+"/clients"), chromedp.WaitVisible(chromedp.CSS("#results .empty")))
}

func TestChangeAColumnsMappingBeforeImporting(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tab := a.signedIn(domain.RoleEditor)
	file := filepath.Join(t.TempDir(), "crm-export.csv")
	if err := os.WriteFile(file, []byte("First name;Last name;Email;Zq info\n"+
		"Anna;Peeters;anna@example.be;calls on Tuesdays\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.Navigate(a.base+"/imports/new"), chromedp.WaitVisible(chromedp.CSS("[data-dropzone]")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), leaving(),
		chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS("#map-D")))
	if got := run(t, tab, chromedp.Value(chromedp.CSS("#map-D"))); got != "" {
		t.Fatalf("column D is mapped to %q before the user chose", got)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "1\nwarnings") {
		t.Errorf("an unknown column should warn: %q", got)
	}
	do(t, tab, chromedp.SetValue(chromedp.CSS("#map-D"), "notes"), leaving(),
		chromedp.Click(chromedp.CSS(".mapping-form button[type=submit]")), newPage(),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(t, tab, ".flash"); got != "The file was checked again with your columns." {
		t.Errorf("flash %q", got)
	}
	if got := run(t, tab, chromedp.Value(chromedp.CSS("#map-D"))); got != "notes" {
		t.Errorf("column D now becomes %q, want notes", got)
	}
	if got := text(t, tab, "#found-h + .stats"); !strings.Contains(got, "0\nwarnings") || !strings.Contains(got, "1\nto create") {
		t.Errorf("after the new mapping: %q", got)
	}
	// An editor checks files; an administrator runs them.
	if got := text(t, tab, ".notice"); got != "An administrator runs the import." {
		t.Errorf("notice %q", got)
	}
	shot(t, tab, "remapped")
}
