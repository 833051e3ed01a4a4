package postgres

// Benchmarks of one large append, against a fresh database each (pgtest):
//
//	go test ./adapters/postgres/ -run XXX -bench . -benchtime 3x
//
// BenchmarkAppendBatch10k goes through EventStore.Save; BenchmarkCopyFrom10k
// is the ceiling: pgx CopyFrom of the very rows the store's schema adapter
// builds, into a table with the events columns and no constraint, index or
// trigger. BenchmarkAppendBatch10kPhases splits Save's time into its steps.

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
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

// bareTable has the events columns and nothing else; its defaults are the
// same per-row work the store's INSERT does (sequence, xact id, now()).
const bareTable = `CREATE TABLE bench_events_copy (
    "offset" BIGSERIAL, uuid VARCHAR(36), payload JSON, metadata JSON,
    transaction_id xid8 DEFAULT pg_current_xact_id(), tenant_id UUID,
    stream_type TEXT, stream_id UUID, stream_version INTEGER, event_type TEXT,
    recorded_at TIMESTAMPTZ DEFAULT now())`

var bareColumns = []string{"uuid", "payload", "metadata", "tenant_id", "stream_type", "stream_id", "stream_version", "event_type"}

// storeRows are the column values the store's schema adapter binds for agg
// (same payload and metadata JSON), as CopyFrom rows.
func storeRows(b *testing.B, s *EventStore, origin domain.Origin, agg *benchAggregate) [][]any {
	b.Helper()
	msgs := benchMessages(b, s, origin, agg)
	rows := make([][]any, 0, len(msgs))
	q, err := logSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: EventsTopic, Msgs: msgs})
	if err != nil {
		b.Fatal(err)
	}
	cols := q.Args
	for i := range msgs {
		rows = append(rows, []any{cols[0].([]string)[i], []byte(cols[1].([]string)[i]), []byte(cols[2].([]string)[i]),
			uuid.MustParse(cols[3].([]string)[i]), cols[4].([]string)[i], uuid.MustParse(cols[5].([]string)[i]),
			cols[6].([]int32)[i], cols[7].([]string)[i]})
	}
	return rows
}

// benchMessages encodes agg's events as Save does, with a fresh data key.
func benchMessages(b testing.TB, s *EventStore, origin domain.Origin, agg *benchAggregate) []*message.Message {
	b.Helper()
	ctx := context.Background()
	var key cipher.AEAD
	if isPersonal(agg.pending[0]) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			b.Fatal(err)
		}
		var err error
		if key, err = newAEAD(raw); err != nil {
			b.Fatal(err)
		}
	}
	occurredAt := time.Now().UTC().Format(time.RFC3339Nano)
	msgs := make([]*message.Message, len(agg.pending))
	for i, e := range agg.pending {
		m, err := s.newMessage(ctx, origin, agg, i+1, e, key, occurredAt)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	return msgs
}

func BenchmarkCopyFrom10k(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			ctx := context.Background()
			store, pool := newBenchStore(b)
			if _, err := pool.Exec(ctx, bareTable); err != nil {
				b.Fatal(err)
			}
			origin := benchOrigin()
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				rows := storeRows(b, store, origin, newBenchAggregate(k))
				b.StartTimer()
				t0 := time.Now()
				n, err := pool.CopyFrom(ctx, pgx.Identifier{"bench_events_copy"}, bareColumns, pgx.CopyFromRows(rows))
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
