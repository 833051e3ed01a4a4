package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
)

// A table that a bulk change filled is analysed, so the planner knows how
// many rows it holds; one unchanged since is left alone.
func TestStatisticsAnalyseTablesChangedInBulk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE bulk (n int); INSERT INTO bulk SELECT generate_series(1, 5000)`); err != nil {
		t.Fatal(err)
	}
	// The server reports a session's changes when it goes idle, at most
	// once a second unless asked.
	if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	conn.Release()

	stats := postgres.NewStatistics(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	analysed := func() (rows float64, times int64) {
		t.Helper()
		if err := stats.AnalyzeChanged(ctx); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, `SELECT c.reltuples, s.analyze_count FROM pg_class c
			JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'bulk'`).Scan(&rows, &times); err != nil {
			t.Fatal(err)
		}
		return rows, times
	}
	if rows, times := analysed(); rows != 5000 || times != 1 {
		t.Fatalf("after 5,000 inserts the planner counts %v rows, analysed %d times; want 5000, once", rows, times)
	}
	if _, times := analysed(); times != 1 {
		t.Fatalf("an unchanged table was analysed again (%d times)", times)
	}
}
