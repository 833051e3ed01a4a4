package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/migrations"
)

// batchAggregate is a bench-only aggregate: a fresh stream holding n pending
// events and no unique keys.
type batchAggregate struct {
	streamType string
	id         uuid.UUID
	pending    []domain.Event
}

func (a *batchAggregate) StreamType() string             { return a.streamType }
func (a *batchAggregate) StreamID() uuid.UUID            { return a.id }
func (a *batchAggregate) Version() int                   { return 0 }
func (a *batchAggregate) PendingEvents() []domain.Event  { return a.pending }
func (a *batchAggregate) UniqueKeys() []domain.UniqueKey { return nil }
func (a *batchAggregate) Apply(domain.RecordedEvent)     {}

// eventKind is one flavour of the append benchmark.
type eventKind struct {
	name       string
	streamType string
	event      func(i int) domain.Event
}

var eventKinds = []eventKind{
	{
		name:       "ListRenamed (plain)",
		streamType: domain.StreamList,
		event:      func(i int) domain.Event { return domain.ListRenamed{Name: "Newsletter " + strconv.Itoa(i)} },
	},
	{
		name:       "ClientDetailsChanged (sealed)",
		streamType: domain.StreamClient,
		event: func(i int) domain.Event {
			return domain.ClientDetailsChanged{Changes: map[domain.Field]string{
				domain.FieldCity:  "City " + strconv.Itoa(i),
				domain.FieldPhone: "+32 470 " + strconv.Itoa(100000+i),
			}}
		},
	},
}

type appendResult struct {
	name                string
	store, copy         time.Duration
	storeRuns, copyRuns []time.Duration
}

func benchAppend(ctx context.Context, dbURL string, o options) ([]appendResult, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := migrations.Apply(ctx, pool); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := pool.Exec(ctx, eventlog.BareEventsTable); err != nil {
		return nil, fmt.Errorf("create copy table: %w", err)
	}
	masterKey := make([]byte, 32)
	if _, err := rand.Read(masterKey); err != nil {
		return nil, err
	}
	keys, err := eventlog.NewKeyring(masterKey)
	if err != nil {
		return nil, err
	}
	store := eventlog.NewEventStore(pool, keys, watermill.NopLogger{})
	origin := domain.Origin{TenantID: uuid.New(), Actor: "bench", CorrelationID: uuid.NewString()}

	var out []appendResult
	for _, kind := range eventKinds {
		res := appendResult{name: kind.name}
		// One unmeasured warm-up of each, then interleaved measured runs.
		for rep := -1; rep < o.repeat; rep++ {
			agg := newBatch(kind, o.events)
			t0 := time.Now()
			if _, err := store.Save(ctx, origin, agg); err != nil {
				return nil, fmt.Errorf("%s: Save: %w", kind.name, err)
			}
			storeTook := time.Since(t0)

			rows, err := store.EncodeRows(ctx, origin, newBatch(kind, o.events))
			if err != nil {
				return nil, err
			}
			t0 = time.Now()
			n, err := pool.CopyFrom(ctx, pgx.Identifier{"bench_events_copy"}, eventlog.EventColumns, pgx.CopyFromRows(rows))
			if err != nil {
				return nil, fmt.Errorf("%s: CopyFrom: %w", kind.name, err)
			}
			copyTook := time.Since(t0)
			if n != int64(o.events) {
				return nil, fmt.Errorf("%s: CopyFrom wrote %d rows, want %d", kind.name, n, o.events)
			}
			if rep >= 0 {
				res.storeRuns = append(res.storeRuns, storeTook)
				res.copyRuns = append(res.copyRuns, copyTook)
			}
		}
		res.store, res.copy = median(res.storeRuns), median(res.copyRuns)
		out = append(out, res)
	}
	return out, nil
}

func newBatch(kind eventKind, n int) *batchAggregate {
	agg := &batchAggregate{streamType: kind.streamType, id: uuid.New(), pending: make([]domain.Event, n)}
	for i := range agg.pending {
		agg.pending[i] = kind.event(i)
	}
	return agg
}
