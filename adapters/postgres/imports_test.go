package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/spreadsheet"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// stopAfter wraps the file reader and calls stop once n rows were read:
// a crash in the middle of an execution.
type stopAfter struct {
	spreadsheet.Opener
	n    int64
	read atomic.Int64
	stop func()
}

func (s *stopAfter) Open(content io.ReaderAt, size int64, name string, opts commands.FileOptions) (commands.RowReader, domain.FileFacts, error) {
	rows, facts, err := s.Opener.Open(content, size, name, opts)
	return &stoppingRows{RowReader: rows, s: s}, facts, err
}

type stoppingRows struct {
	commands.RowReader
	s *stopAfter
}

func (r *stoppingRows) Next() (commands.FileRow, error) {
	if r.s.stop != nil && r.s.read.Add(1) == r.s.n {
		r.s.stop()
	}
	return r.RowReader.Next()
}

func countEvents(t *testing.T, pool *pgxpool.Pool, eventType string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = $1`, eventType).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportInterruptedMidExecutionLeavesNothingThenFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tenantID, _, err := postgres.NewTenants(pool).Create(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	origin := domain.Origin{TenantID: tenantID, Actor: "test"}
	imports := postgres.NewImports(pool, store, logger)

	var csv strings.Builder
	csv.WriteString("email;first_name;last_name\n")
	const rows = 3000
	for i := range rows {
		fmt.Fprintf(&csv, "client%d@example.be;Client;Number %d\n", i, i)
	}
	content := strings.NewReader(csv.String())
	opener := &stopAfter{n: rows / 2}
	h := commands.NewImportHandlers(store, imports, opener)
	a, err := h.Analyze.Handle(ctx, commands.AnalyzeImport{Origin: origin,
		File: commands.StoredFile{Name: "big.csv", Size: content.Size(), Content: content}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Event.Summary.ToCreate != rows {
		t.Fatalf("analysis %+v", a.Event.Summary)
	}
	if _, err := h.Execute.Handle(ctx, commands.ExecuteImport{Origin: origin, ImportID: a.ImportID}); err != nil {
		t.Fatal(err)
	}

	// The worker dies half-way through the file.
	crashCtx, crash := context.WithCancel(ctx)
	opener.stop = crash
	if ran, err := postgres.NewImportWorker(imports, h.Run, h.Queued, logger).RunNext(crashCtx); !ran || err == nil {
		t.Fatalf("interrupted run: ran=%v err=%v", ran, err)
	}
	if n := countEvents(t, pool, "ClientRegistered"); n != 0 {
		t.Fatalf("%d clients visible after the interrupted run", n)
	}
	imp := domain.NewImport(a.ImportID)
	if err := store.Load(ctx, tenantID, imp); err != nil || imp.Status() != domain.ImportStatusRunning {
		t.Fatalf("import after crash: %s, %v", imp.Status(), err)
	}

	// After the restart the import runs to its end, once. The dead run's
	// connection was dropped: its transaction, and the job's lock, end when
	// the server notices, which a busy server may not have done yet (the
	// worker's loop would simply try again).
	opener.stop = nil
	worker := postgres.NewImportWorker(imports, h.Run, h.Queued, logger)
	ran, err := false, error(nil)
	for deadline := time.Now().Add(10 * time.Second); !ran && err == nil && time.Now().Before(deadline); {
		if ran, err = worker.RunNext(ctx); !ran {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !ran || err != nil {
		t.Fatalf("second run: ran=%v err=%v", ran, err)
	}
	if ran, err := worker.RunNext(ctx); ran || err != nil {
		t.Fatalf("the job ran twice: ran=%v err=%v", ran, err)
	}
	if n := countEvents(t, pool, "ClientRegistered"); n != rows {
		t.Fatalf("%d clients after the restart, want %d", n, rows)
	}
	imp = domain.NewImport(a.ImportID)
	if err := store.Load(ctx, tenantID, imp); err != nil || imp.Status() != domain.ImportStatusExecuted || imp.Label() == "" {
		t.Fatalf("import after restart: %s %q, %v", imp.Status(), imp.Label(), err)
	}
	// The progress written in the background never lands after the job's
	// end removed it.
	var progress int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM import_progress WHERE import_id = $1`, a.ImportID).Scan(&progress); err != nil || progress != 0 {
		t.Fatalf("progress rows left after the run: %d (%v)", progress, err)
	}
	var withRow int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE import_id = $1 AND metadata->>'import_row' IS NOT NULL`,
		a.ImportID).Scan(&withRow); err != nil || withRow != rows {
		t.Fatalf("events carrying their row: %d (%v)", withRow, err)
	}
}
