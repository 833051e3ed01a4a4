package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
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
		return runProjector(t, postgres.NewProjector(pool, keys, countedClients{applied: applied}, cfg, logger))
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

// runProjector runs p until stop is called; stop reports how it ended.
func runProjector(t *testing.T, p *postgres.Projector) (stop func()) {
	stopRun := inBackground(p.Run)
	return func() {
		if err := stopRun(); err != nil {
			t.Errorf("projector: %v", err)
		}
	}
}

func clientCount(t *testing.T, pool *pgxpool.Pool, tenantID uuid.UUID) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_clients WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The lists projector reads the log of rare streams alone: a tenant's
// thousands of client events between two of its lists cost it one batch,
// not one per forty events. Read-your-writes still holds for a client
// event: the lists must show every list the tenant created before it, and
// a tenant that created none waits for nothing.
func TestProjectorOfRareStreamsSkipsClientEventsYetAnswersForThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	keys := testKeyring(t)
	h := commands.NewHandlers(store)
	reads := postgres.NewReadModels(pool)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	other := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	cfg := postgres.ProjectorConfig{BatchSize: 40, PollInterval: 10 * time.Millisecond}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runLists := func() (stop func()) {
		return runProjector(t, postgres.NewProjector(pool, keys, projections.Lists{}, cfg, logger))
	}
	createList := func(name string) int64 {
		t.Helper()
		res, err := h.CreateList.Handle(ctx, commands.CreateList{Origin: origin, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return res.Position
	}
	register := func(o domain.Origin, n int) int64 {
		t.Helper()
		var aggs []domain.Aggregate
		for i := range n {
			c, err := domain.RegisterClient(uuid.New(), personInput(fmt.Sprintf("c%d-%s@example.com", i, uuid.NewString())), domain.NewCustomFieldSet(o.TenantID))
			if err != nil {
				t.Fatal(err)
			}
			aggs = append(aggs, c)
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // committed below
		last, err := store.SaveInTx(ctx, tx, o, aggs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return last
	}

	first := createList("First")
	stop := runLists()
	if err := reads.WaitForPosition(ctx, origin.TenantID, first, []string{"lists"}, 15*time.Second); err != nil {
		t.Fatalf("the first list: %v", err)
	}
	stop()

	register(origin, 3000)
	otherClient := register(other, 1)
	second := createList("Second")
	lastClient := register(origin, 1)

	// The projector is stopped: the second list is not applied.
	err := reads.WaitForPosition(ctx, origin.TenantID, lastClient, []string{"lists"}, 300*time.Millisecond)
	if !errors.Is(err, projections.ErrPositionNotReached) {
		t.Fatalf("a client registered after a list not shown yet: %v, want %v", err, projections.ErrPositionNotReached)
	}
	if err := reads.WaitForPosition(ctx, other.TenantID, otherClient, []string{"lists"}, 5*time.Second); err != nil {
		t.Fatalf("a tenant without lists waited for the lists projector: %v", err)
	}

	// Its next batch of forty reaches the second list over 3,001 client events.
	q, err := eventlog.NewProjectorSchema(cfg.BatchSize, projections.Lists{}.StreamTypes()).SelectQuery(wsql.SelectQueryParams{ConsumerGroup: "lists"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM (`+q.Query+`) AS batch
		JOIN events e ON e."offset" = batch."offset" WHERE e."offset" = `+strconv.FormatInt(second, 10)+`)`, q.Args...).Scan(&found)
	_ = tx.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Error("the lists projector's next batch does not reach the list created after 3,001 client events")
	}

	stop = runLists()
	defer stop()
	if err := reads.WaitForPosition(ctx, origin.TenantID, lastClient, []string{"lists"}, 15*time.Second); err != nil {
		t.Fatalf("the last client's position: %v", err)
	}
	var names []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(name ORDER BY name) FROM rm_lists WHERE tenant_id = $1`, origin.TenantID).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"First", "Second"}) {
		t.Errorf("lists %v, want [First Second]", names)
	}
	status, err := reads.ProjectionStatus(ctx, []string{"lists"})
	if err != nil {
		t.Fatal(err)
	}
	if len(status) != 1 || status[0].Lag != 0 {
		t.Errorf("lists projector status %+v, want no lag", status)
	}
}
