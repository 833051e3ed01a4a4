package eventlog

// Benchmarks of one large append, against a fresh database each (pgtest):
//
//	go test ./adapters/postgres/eventlog/ -run XXX -bench . -benchtime 3x
//
// BenchmarkAppendBatch10k goes through EventStore.Save; BenchmarkCopyFrom10k
// is the ceiling: pgx CopyFrom of the very rows the store's schema adapter
// builds, into a table with the events columns and no constraint, index or
// trigger.

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
)

const benchBatch = 10_000

// benchAggregate is a fresh stream with benchBatch pending events and no
// unique keys.
type benchAggregate struct {
	streamType string
	id         uuid.UUID
	pending    []domain.Event
}

func (a *benchAggregate) StreamType() string             { return a.streamType }
func (a *benchAggregate) StreamID() uuid.UUID            { return a.id }
func (a *benchAggregate) Version() int                   { return 0 }
func (a *benchAggregate) PendingEvents() []domain.Event  { return a.pending }
func (a *benchAggregate) UniqueKeys() []domain.UniqueKey { return nil }
func (a *benchAggregate) Apply(domain.RecordedEvent)     {}

type benchKind struct {
	name       string
	streamType string
	event      func(i int) domain.Event
}

var benchKinds = []benchKind{
	{"plain", domain.StreamList, func(i int) domain.Event {
		return domain.ListRenamed{Name: "Newsletter " + strconv.Itoa(i)}
	}},
	{"sealed", domain.StreamClient, func(i int) domain.Event {
		return domain.ClientDetailsChanged{Changes: map[domain.Field]string{
			domain.FieldCity:  "City " + strconv.Itoa(i),
			domain.FieldPhone: "+32 470 " + strconv.Itoa(100000+i),
		}}
	}},
}

func newBenchAggregate(k benchKind) *benchAggregate {
	a := &benchAggregate{streamType: k.streamType, id: uuid.New(), pending: make([]domain.Event, benchBatch)}
	for i := range a.pending {
		a.pending[i] = k.event(i)
	}
	return a
}

func newBenchStore(b testing.TB) (*EventStore, *pgxpool.Pool) {
	b.Helper()
	pool := pgtest.NewPool(b)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	keys, err := NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	return NewEventStore(pool, keys, watermill.NopLogger{}), pool
}

func benchOrigin() domain.Origin {
	return domain.Origin{TenantID: uuid.New(), Actor: "bench", CorrelationID: uuid.NewString()}
}

func reportEventsPerSec(b *testing.B, took time.Duration) {
	b.ReportMetric(float64(benchBatch)*float64(b.N)/took.Seconds(), "events/s")
}

func BenchmarkAppendBatch10k(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			ctx := context.Background()
			store, _ := newBenchStore(b)
			origin := benchOrigin()
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				agg := newBenchAggregate(k)
				b.StartTimer()
				t0 := time.Now()
				if _, err := store.Save(ctx, origin, agg); err != nil {
					b.Fatal(err)
				}
				took += time.Since(t0)
			}
			reportEventsPerSec(b, took)
		})
	}
}

// BenchmarkCopyFrom10k copies the rows EncodeRows gives into
// BareEventsTable, the ceiling of BenchmarkAppendBatch10k.
func BenchmarkCopyFrom10k(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			ctx := context.Background()
			store, pool := newBenchStore(b)
			if _, err := pool.Exec(ctx, BareEventsTable); err != nil {
				b.Fatal(err)
			}
			origin := benchOrigin()
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				rows, err := store.EncodeRows(ctx, origin, newBenchAggregate(k))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				n, err := pool.CopyFrom(ctx, pgx.Identifier{"bench_events_copy"}, EventColumns, pgx.CopyFromRows(rows))
				if err != nil {
					b.Fatal(err)
				}
				took += time.Since(t0)
				if n != benchBatch {
					b.Fatalf("copied %d rows, want %d", n, benchBatch)
				}
			}
			reportEventsPerSec(b, took)
		})
	}
}
