package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Tenant A's import is one long transaction. While it runs, tenant B's new
// client becomes visible; once it commits, A's clients are applied, every
// one exactly once, although the projector is killed in the middle of them.
func TestProjectorReadsPastAnotherTenantsRunningTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	keys := testKeyring(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE applied_ledger (position BIGINT PRIMARY KEY, seq BIGSERIAL)`); err != nil {
		t.Fatal(err)
	}
	originA := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	originB := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	h := commands.NewHandlers(store)
	reads := postgres.NewReadModels(pool)
	register := func(email string) (uuid.UUID, int64) {
		t.Helper()
		res, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: originB, Input: personInput(email)})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID, res.Position
	}

	// A's import: 250 clients in one transaction, left open.
	importTx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer importTx.Rollback(ctx) //nolint:errcheck // committed below
	var idsA []uuid.UUID
	var aggs []domain.Aggregate
	for i := range 250 {
		c, err := domain.RegisterClient(uuid.New(), personInput(fmt.Sprintf("a%d@example.com", i)), domain.NewCustomFieldSet(originA.TenantID))
		if err != nil {
			t.Fatal(err)
		}
		idsA, aggs = append(idsA, c.ID()), append(aggs, c)
	}
	lastA, err := store.SaveInTx(ctx, importTx, originA, aggs...)
	if err != nil {
		t.Fatal(err)
	}

	applied := &atomic.Int64{}
	cfg := postgres.ProjectorConfig{BatchSize: 40, PollInterval: 10 * time.Millisecond}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() (stop func()) {
		p := postgres.NewProjector(pool, keys, countedClients{applied: applied}, cfg, logger)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("projector: %v", err)
			}
		}
	}

	stop := start()
	b1, p1 := register("b1@example.com")
	if err := reads.WaitForPosition(ctx, originB.TenantID, p1, []string{"clients"}, 10*time.Second); err != nil {
		t.Fatalf("B's client is not visible while A's import runs: %v", err)
	}
	if got := clientCount(t, pool, originA.TenantID); got != 0 {
		t.Fatalf("%d of A's clients visible before its import committed", got)
	}
	if _, err := reads.Client(ctx, originB.TenantID, b1); err != nil {
		t.Fatalf("B's client: %v", err)
	}
	stop()

	// A commits. B registers again; the projector is killed in the middle
	// of A's events and started again.
	if err := importTx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b2, p2 := register("b2@example.com")
	crashing := postgres.NewProjector(pool, keys, countedClients{killAt: applied.Load() + 100, applied: applied}, cfg, logger)
	if err := crashing.Run(ctx); err == nil {
		t.Fatal("the killed projector should stop with an error")
	}
	stop = start()
	for _, w := range []struct {
		tenant   uuid.UUID
		position int64
	}{{originA.TenantID, lastA}, {originB.TenantID, p2}} {
		if err := reads.WaitForPosition(ctx, w.tenant, w.position, []string{"clients"}, 15*time.Second); err != nil {
			t.Fatalf("position %d: %v", w.position, err)
		}
	}
	stop()

	if got := clientCount(t, pool, originA.TenantID); got != len(idsA) {
		t.Errorf("A's clients in the read model: %d, want %d", got, len(idsA))
	}
	if got := clientCount(t, pool, originB.TenantID); got != 2 {
		t.Errorf("B's clients in the read model: %d, want 2", got)
	}
	var logged, ledger, failures, open int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE stream_type = ANY($1)),
			(SELECT count(*) FROM applied_ledger), (SELECT count(*) FROM projection_failures),
			(SELECT count(*) FROM events_offsets_open h WHERE EXISTS (SELECT FROM events e WHERE e.transaction_id = h.transaction_id))`, projections.Clients{}.StreamTypes()).
		Scan(&logged, &ledger, &failures, &open); err != nil {
		t.Fatal(err)
	}
	if ledger != logged || failures != 0 {
		t.Errorf("applied %d events of %d, %d set aside (an event applied twice is set aside)", ledger, logged, failures)
	}
	if open != 0 {
		t.Errorf("%d transactions of the log still open after everything was applied", open)
	}
	// B's second client did not wait for A's whole import to be applied.
	var b2First bool
	if err := pool.QueryRow(ctx, `SELECT (SELECT seq FROM applied_ledger WHERE position = $1) <
			(SELECT seq FROM applied_ledger WHERE position = $2)`, p2, lastA).Scan(&b2First); err != nil {
		t.Fatal(err)
	}
	if !b2First {
		t.Error("B's client registered after A's import committed was applied after all of A's events")
	}
	assertReadModelMatchesLog(t, pool, store, originA.TenantID, idsA)
	assertReadModelMatchesLog(t, pool, store, originB.TenantID, []uuid.UUID{b1, b2})
}

func clientCount(t *testing.T, pool *pgxpool.Pool, tenantID uuid.UUID) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_clients WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
