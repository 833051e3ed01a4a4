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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// countedClients is the clients projection plus a ledger with one row per
// applied event: applying an event twice violates the ledger's key.
type countedClients struct {
	projections.Clients
	// killAt, when positive, kills the subscriber's connection when the
	// killAt-th event is applied, mid-batch, like a crashed process would.
	killAt  int64
	applied *atomic.Int64
}

func (c countedClients) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	positions := make([]int64, len(events))
	for i, e := range events {
		positions[i] = e.Position
	}
	if _, err := tx.Exec(ctx, `INSERT INTO applied_ledger (position) SELECT unnest($1::bigint[])`, positions); err != nil {
		return err
	}
	if err := c.Clients.Apply(ctx, tx, events); err != nil {
		return err
	}
	n := c.applied.Add(int64(len(events)))
	if c.killAt > 0 && n >= c.killAt && n-int64(len(events)) < c.killAt {
		_, _ = tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
		return fmt.Errorf("killed")
	}
	return nil
}

func TestProjectorKilledMidBatchResumesWithoutLossOrDoubleApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	keys := testKeyring(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE applied_ledger (position BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}

	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	h := commands.NewHandlers(store)
	var ids []uuid.UUID
	for i := range 60 {
		res, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(fmt.Sprintf("c%d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
		if i%3 == 0 {
			v := res.Version
			if _, err := h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: origin, ClientID: res.ID, ExpectedVersion: v,
				Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Gent", domain.FieldLanguage: "nl"}}}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: res.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		t.Fatal(err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	applied := &atomic.Int64{}
	cfg := postgres.ProjectorConfig{BatchSize: 25, PollInterval: 10 * time.Millisecond}
	crashing := postgres.NewProjector(pool, keys, countedClients{killAt: 37, applied: applied}, cfg, logger)
	if err := crashing.Run(ctx); err == nil {
		t.Fatal("the killed projector should stop with an error")
	}

	// Restart, as serve's supervisor does, and let it catch up.
	restarted := postgres.NewProjector(pool, keys, countedClients{applied: applied}, cfg, logger)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- restarted.Run(runCtx) }()
	waitFor(t, func() bool {
		var n int64
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM applied_ledger`).Scan(&n)
		return n == total
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("restarted projector: %v", err)
	}

	var failures int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM projection_failures`).Scan(&failures); err != nil || failures != 0 {
		t.Fatalf("events set aside = %d (%v): an event was applied twice or failed", failures, err)
	}
	assertReadModelMatchesLog(t, pool, store, origin.TenantID, ids)
}

// assertReadModelMatchesLog folds each stream from the log and compares it
// with the clients read model.
func assertReadModelMatchesLog(t *testing.T, pool *pgxpool.Pool, store *postgres.EventStore, tenantID uuid.UUID, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	reads := postgres.NewReadModels(pool)
	for _, id := range ids {
		c := domain.NewClient(id)
		if err := store.Load(ctx, tenantID, c); err != nil {
			t.Fatal(err)
		}
		view, err := reads.Client(ctx, tenantID, id)
		if err != nil {
			t.Fatalf("client %s missing from read model: %v", id, err)
		}
		wantStatus := "active"
		if c.Deleted() {
			wantStatus = "deleted"
		}
		got := map[string]string{"version": fmt.Sprint(view.Version), "status": view.Status, "email": view.Email,
			"city": view.Address.City, "language": view.Language, "last_name": view.LastName}
		want := map[string]string{"version": fmt.Sprint(c.Version()), "status": wantStatus, "email": c.Detail(domain.FieldEmail),
			"city": c.Detail(domain.FieldCity), "language": c.Detail(domain.FieldLanguage), "last_name": c.Detail(domain.FieldLastName)}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("client %s %s: read model %q, log %q", id, k, got[k], want[k])
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testKeyring(t *testing.T) *postgres.Keyring {
	t.Helper()
	key, _ := postgres.ParseMasterKey(testMasterKey)
	keys, err := postgres.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// poisoned fails on one event, every time.
type poisoned struct {
	projections.Clients
	bad int64
}

func (p poisoned) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	for _, e := range events {
		if e.Position == p.bad {
			// A statement error aborts the transaction; the savepoint must
			// contain it so the rest of the batch still commits.
			_, err := tx.Exec(ctx, `SELECT 1/0`)
			return err
		}
	}
	return p.Clients.Apply(ctx, tx, events)
}

func TestProjectorSetsAsideAnEventItCannotApplyAndMovesOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	h := commands.NewHandlers(store)
	var last commands.Result
	for i := range 5 {
		var err error
		if last, err = h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(fmt.Sprintf("p%d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	p := postgres.NewProjector(pool, testKeyring(t), poisoned{bad: 3}, postgres.ProjectorConfig{PollInterval: 10 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = p.Run(runCtx) }()
	reads := postgres.NewReadModels(pool)
	if err := reads.WaitForPosition(ctx, origin.TenantID, last.Position, []string{"clients"}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var n int
	var failedAt int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_clients), (SELECT event_offset FROM projection_failures WHERE projection = 'clients')`).Scan(&n, &failedAt); err != nil {
		t.Fatal(err)
	}
	if n != 4 || failedAt != 3 || p.Failures() != 1 {
		t.Fatalf("clients projected = %d, set aside at %d, failures metric %d; want 4, 3, 1", n, failedAt, p.Failures())
	}
}
