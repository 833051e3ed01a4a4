package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
)

// projectInBackground runs the projectors on the database, as serve would.
func projectInBackground(t *testing.T, url string) *service.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Config{DatabaseURL: url, MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		svc.RunWorkers(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
	})
	return svc
}

func TestAuditReplayAndVerifyCommands(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabaseURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("CLIENTREG_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	var out bytes.Buffer
	if err := run(ctx, []string{"tenant", "create", "office"}, &out); err != nil {
		t.Fatal(err)
	}
	svc := projectInBackground(t, url)
	file := filepath.Join(t.TempDir(), "clients.csv")
	_ = os.WriteFile(file, []byte("E-mail;Taal;Voornaam;Achternaam\nanna@example.be;nl;Anna;Peeters\nbert@example.be;nl;Bert;Claes\n"), 0o600)
	if err := run(ctx, []string{"import", file, "--tenant", "office"}, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	label := time.Now().Format("2006-01-02") + " #1"
	if err := svc.Reads.WaitCaughtUp(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := run(ctx, []string{"audit", "client", "ANNA@example.be", "--tenant", "office"}, &out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"ClientRegistered", "import " + label + " row 2", `email: (none) -> "anna@example.be"`} {
		if !strings.Contains(table, want) {
			t.Errorf("client timeline lacks %q:\n%s", want, table)
		}
	}

	out.Reset()
	if err := run(ctx, []string{"audit", "import", label, "--tenant", "office", "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e struct{ Event string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		events = append(events, e.Event)
	}
	if strings.Join(events, " ") != "ImportAnalyzed ImportExecutionRequested ImportExecuted" {
		t.Errorf("import timeline %v", events)
	}

	out.Reset()
	if err := run(ctx, []string{"audit", "events", "--tenant", "office", "--type", "ClientRegistered", "--since", "2020-01-01"}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "ClientRegistered"); n != 2 {
		t.Errorf("events table shows %d registrations:\n%s", n, out.String())
	}

	out.Reset()
	if err := run(ctx, []string{"replay"}, &out); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "clients: 2 events replayed") {
		t.Errorf("replay report:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"verify", "--tenant", "office"}, &out); err != nil {
		t.Fatalf("verify after replay: %v\n%s", err, out.String())
	}

	// A read model that drifted from the log is caught, field by field.
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `UPDATE rm_clients SET city = 'Gent' WHERE email = 'bert@example.be'`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"verify"}, &out)
	if !errors.Is(err, errDifferences) || !strings.Contains(out.String(), `address.city  ""`) || !strings.Contains(out.String(), `"Gent"`) {
		t.Fatalf("verify of a drifted read model: %v\n%s", err, out.String())
	}
}
