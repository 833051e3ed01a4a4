package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
)

func TestImportCommandAnalysesThenImports(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DATABASE_URL", pgtest.NewDatabaseURL(t))
	t.Setenv("CLIENTREG_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	var out bytes.Buffer
	if err := run(ctx, []string{"tenant", "create", "office"}, &out); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "clients.csv")
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(good, []byte("E-mail;Taal;Voornaam;Achternaam\nanna@example.be;nl;Anna;Peeters\nbert@example;nl;Bert;Claes\n"), 0o600)
	_ = os.WriteFile(bad, []byte("email;language\nnot-an-email;fr\n"), 0o600)

	out.Reset()
	if err := run(ctx, []string{"import", good, "--tenant", "office", "--dry-run", "--lang", "nl"}, &out); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{"encoding utf-8", `delimiter ";"`, "valid 1, invalid 1", "row 3 A error"} {
		if !strings.Contains(report, want) {
			t.Errorf("dry-run report lacks %q:\n%s", want, report)
		}
	}

	out.Reset()
	if err := run(ctx, []string{"import", good, "--tenant", "office", "--list", "Nieuwsbrief"}, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created 1") || !strings.Contains(out.String(), "failed 1") || !strings.Contains(out.String(), " #1 executed") {
		t.Fatalf("import report:\n%s", out.String())
	}

	out.Reset()
	err := run(ctx, []string{"import", bad, "--tenant", "office"}, &out)
	if !errors.Is(err, errNothingImported) {
		t.Fatalf("a file with nothing to import: %v\n%s", err, out.String())
	}
}
