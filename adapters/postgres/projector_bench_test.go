package postgres_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// go test ./adapters/postgres/ -run XXX -bench ProjectClients -benchtime 3x

// BenchmarkProjectClients100k measures how fast the clients read model
// catches up on a bulk import: N ClientRegistered events (100,000; 5,000
// under -short) appended through EventStore.Save, then the clients
// projector run from position 0 until its offset reaches the last event.
// Only the catch-up is timed; each iteration starts from an empty read
// model and a fresh offset.
func BenchmarkProjectClients100k(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	ctx := context.Background()
	store, pool := newBenchStore(b)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "bench", CorrelationID: uuid.NewString()}
	last := appendRegistrations(b, store, pool, origin, n)
	reads := postgres.NewReadModels(pool)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := pool.Exec(ctx, `TRUNCATE rm_clients; DELETE FROM events_offsets`); err != nil {
			b.Fatal(err)
		}
		projector := postgres.NewProjector(pool, store.Keys(), projections.Clients{}, postgres.ProjectorConfig{}, logger)
		b.StartTimer()
		t0 := time.Now()
		stop := inBackground(projector.Run)
		err := reads.WaitForPosition(ctx, origin.TenantID, last, []string{projector.Name()}, 10*time.Minute)
		took += time.Since(t0)
		b.StopTimer()
		if runErr := stop(); runErr != nil {
			b.Fatal(runErr)
		}
		if err != nil {
			b.Fatal(err)
		}
		var rows int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_clients`).Scan(&rows); err != nil || rows != n {
			b.Fatalf("read model holds %d clients (%v), want %d", rows, err, n)
		}
		b.StartTimer() // b.Loop must be called with the timer running
	}
	b.ReportMetric(float64(n)*float64(b.N)/took.Seconds(), "events/s")
}

// appendRegistrations saves n new clients, 1000 per Save, and returns the
// position of the last event.
func appendRegistrations(b *testing.B, store *eventlog.EventStore, pool *pgxpool.Pool, origin domain.Origin, n int) int64 {
	b.Helper()
	ctx := context.Background()
	var last int64
	for start := 0; start < n; start += 1000 {
		aggs := make([]domain.Aggregate, 0, 1000)
		for i := start; i < min(start+1000, n); i++ {
			c, err := domain.RegisterClient(uuid.New(), domain.ClientInput{Details: map[domain.Field]string{
				domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont " + strconv.Itoa(i),
				domain.FieldEmail: "client" + strconv.Itoa(i) + "@example.com", domain.FieldCity: "Gent",
			}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			aggs = append(aggs, c)
		}
		pos, err := store.Save(ctx, origin, aggs...)
		if err != nil {
			b.Fatal(err)
		}
		last = pos
		// Fresh tables keep the plans made when they were empty (sequential
		// scans) until analyzed: without this the setup grows quadratically.
		if _, err := pool.Exec(ctx, `ANALYZE events, reservations, subject_keys`); err != nil {
			b.Fatal(err)
		}
	}
	return last
}

func newBenchStore(b testing.TB) (*eventlog.EventStore, *pgxpool.Pool) {
	b.Helper()
	pool := pgtest.NewPool(b)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	keys, err := eventlog.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	return eventlog.NewEventStore(pool, keys, watermill.NopLogger{}), pool
}
