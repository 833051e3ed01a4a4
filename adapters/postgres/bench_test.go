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
	"github.com/jackc/pgx/v5/pgtype"
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

func newBenchStore(b *testing.B) (*EventStore, *pgxpool.Pool) {
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
    "offset" BIGSERIAL, uuid VARCHAR(36), payload JSONB, metadata JSONB,
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
	for start := 0; start < len(msgs); start += MaxEventsPerInsert {
		q, err := logSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: EventsTopic, Msgs: msgs[start:min(start+MaxEventsPerInsert, len(msgs))]})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(q.Args); i += insertColumns {
			a := q.Args[i : i+insertColumns]
			rows = append(rows, []any{a[0], []byte(a[1].(string)), []byte(a[2].(string)),
				uuid.MustParse(a[3].(string)), a[4], uuid.MustParse(a[5].(string)), int32(a[6].(int)), a[7]})
		}
	}
	return rows
}

// benchMessages encodes agg's events as Save does, with a fresh data key.
func benchMessages(b *testing.B, s *EventStore, origin domain.Origin, agg *benchAggregate) []*message.Message {
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

// BenchmarkAppendBatch10kPhases times Save's steps one by one in one
// transaction (ms per 10k-event batch), and two alternatives for the insert
// itself: one INSERT ... SELECT FROM unnest(8 arrays), and CopyFrom into the
// real events table.
func BenchmarkAppendBatch10kPhases(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			ctx := context.Background()
			store, pool := newBenchStore(b)
			origin := benchOrigin()
			phases := map[string]time.Duration{}
			lap := func(name string, t0 time.Time) time.Time {
				now := time.Now()
				phases[name] += now.Sub(t0)
				return now
			}
			for b.Loop() {
				agg := newBenchAggregate(k)
				t := time.Now()
				tx, err := pool.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				t = lap("begin", t)
				var key cipher.AEAD
				if isPersonal(agg.pending[0]) {
					if key, err = store.keys.subjectKey(ctx, tx, origin.TenantID, agg.id, true); err != nil {
						b.Fatal(err)
					}
				}
				t = lap("subjectkey", t)
				occurredAt := time.Now().UTC().Format(time.RFC3339Nano)
				msgs := make([]*message.Message, len(agg.pending))
				for i, e := range agg.pending {
					if msgs[i], err = store.newMessage(ctx, origin, agg, i+1, e, key, occurredAt); err != nil {
						b.Fatal(err)
					}
				}
				t = lap("encode", t)
				var queries []wsql.Query
				for start := 0; start < len(msgs); start += MaxEventsPerInsert {
					q, err := logSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: EventsTopic, Msgs: msgs[start:min(start+MaxEventsPerInsert, len(msgs))]})
					if err != nil {
						b.Fatal(err)
					}
					queries = append(queries, q)
				}
				t = lap("insertquery", t)
				for _, q := range queries {
					if _, err := tx.Exec(ctx, q.Query, q.Args...); err != nil {
						b.Fatal(err)
					}
				}
				t = lap("exec", t)
				if err := store.syncReservations(ctx, tx, origin.TenantID, agg); err != nil {
					b.Fatal(err)
				}
				t = lap("reservations", t)
				var pos int64
				if err := tx.QueryRow(ctx, `SELECT currval(pg_get_serial_sequence('events', 'offset'))`).Scan(&pos); err != nil {
					b.Fatal(err)
				}
				t = lap("currval", t)
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				lap("commit", t)

				// Alternative 0: the same multi-row INSERTs, other exec modes and
				// smaller chunks.
				execAlt(b, ctx, pool, store, origin, k, "alt-exec-8191rows-modeexec", MaxEventsPerInsert, pgx.QueryExecModeExec, phases)
				execAlt(b, ctx, pool, store, origin, k, "alt-exec-1000rows", 1000, pgx.QueryExecModeCacheStatement, phases)
				execAlt(b, ctx, pool, store, origin, k, "alt-exec-1000rows-modeexec", 1000, pgx.QueryExecModeExec, phases)
				// Alternative 1: the same rows as one INSERT ... SELECT FROM unnest.
				unnestAlt(b, ctx, pool, store, origin, k, phases)
				// Alternative 2: CopyFrom into events itself, transaction_id read once.
				copyAlt(b, ctx, pool, store, origin, k, phases)
			}
			for name, d := range phases {
				b.ReportMetric(float64(d)/float64(time.Millisecond)/float64(b.N), name+"-ms")
			}
		})
	}
}

func execAlt(b *testing.B, ctx context.Context, pool *pgxpool.Pool, store *EventStore, origin domain.Origin, k benchKind,
	name string, chunk int, mode pgx.QueryExecMode, phases map[string]time.Duration) {
	b.Helper()
	msgs := benchMessages(b, store, origin, newBenchAggregate(k))
	t0 := time.Now()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for start := 0; start < len(msgs); start += chunk {
			q, err := logSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: EventsTopic, Msgs: msgs[start:min(start+chunk, len(msgs))]})
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, q.Query, append([]any{mode}, q.Args...)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	phases[name] += time.Since(t0)
}

func unnestAlt(b *testing.B, ctx context.Context, pool *pgxpool.Pool, store *EventStore, origin domain.Origin, k benchKind, phases map[string]time.Duration) {
	b.Helper()
	rows := storeRows(b, store, origin, newBenchAggregate(k))
	var (
		ids, types, streamTypes []string
		payloads, metas         []string
		tenants, streams        []uuid.UUID
		versions                []int32
	)
	for _, r := range rows {
		ids = append(ids, r[0].(string))
		payloads = append(payloads, string(r[1].([]byte)))
		metas = append(metas, string(r[2].([]byte)))
		tenants = append(tenants, r[3].(uuid.UUID))
		streamTypes = append(streamTypes, r[4].(string))
		streams = append(streams, r[5].(uuid.UUID))
		versions = append(versions, r[6].(int32))
		types = append(types, r[7].(string))
	}
	t0 := time.Now()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO events (uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, transaction_id)
			SELECT u, p, m, t, st, s, v, e, pg_current_xact_id()
			FROM unnest($1::varchar[], $2::jsonb[], $3::jsonb[], $4::uuid[], $5::text[], $6::uuid[], $7::int[], $8::text[]) AS x(u, p, m, t, st, s, v, e)`,
			ids, payloads, metas, tenants, streamTypes, streams, versions, types)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	phases["alt-unnest-insert"] += time.Since(t0)
}

func copyAlt(b *testing.B, ctx context.Context, pool *pgxpool.Pool, store *EventStore, origin domain.Origin, k benchKind, phases map[string]time.Duration) {
	b.Helper()
	rows := storeRows(b, store, origin, newBenchAggregate(k))
	t0 := time.Now()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// xid8's binary form is int8's: register it so CopyFrom can send it.
		tm := tx.Conn().TypeMap()
		if _, ok := tm.TypeForName("xid8"); !ok {
			var oid uint32
			if err := tx.QueryRow(ctx, `SELECT 'xid8'::regtype::oid`).Scan(&oid); err != nil {
				return err
			}
			tm.RegisterType(&pgtype.Type{Name: "xid8", OID: oid, Codec: pgtype.Int8Codec{}})
		}
		var xid int64
		if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
			return err
		}
		full := make([][]any, len(rows))
		for i, r := range rows {
			full[i] = append(r[:insertColumns:insertColumns], xid)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, append(append([]string(nil), bareColumns...), "transaction_id"), pgx.CopyFromRows(full))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	phases["alt-copy-events"] += time.Since(t0)
}
