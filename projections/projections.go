// Package projections builds the read models from the event log. Each
// projection is fed by its own Watermill consumer group and writes inside
// the subscriber's transaction, so its rows and its offset commit together.
package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Projection applies events to one read model.
type Projection interface {
	// Name is the consumer group; renaming it rebuilds from position 0.
	Name() string
	// Tables are the read-model tables the projection alone writes. A
	// replay builds fresh copies of them in a schema of its own (its
	// search_path puts that schema first, so Apply's unqualified names
	// resolve there) and swaps them in.
	Tables() []string
	// StreamTypes are the streams whose events the projection reads. The
	// projector skips events of other streams without decoding them.
	StreamTypes() []string
	// Apply writes the effect of events of its streams, consecutive in the
	// log and in log order: up to a few hundred, possibly of several
	// tenants, or a single one. It must not commit: tx is the subscriber's
	// and commits with the projection's offset. Applying a batch must give
	// the same rows as applying its events one at a time: when a batch
	// fails, the projector rolls it back and retries it event by event to
	// isolate the bad one.
	Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error
}

// Summarized is a projection some of whose tables are summaries of the
// others, kept by triggers row by row. A replay leaves the triggers off
// while it loads the rows, fills the summaries once with these statements,
// then puts the triggers on the new tables.
type Summarized interface {
	Summaries() []string
}

// Loader is a projection a rebuild can load faster than through Apply, in
// two passes. Its tables start empty, written by the rebuild alone, and
// without an index, not even a primary key: Load writes what needs no
// lookup (new rows go in with COPY, which cannot skip a row that exists)
// and returns the events that must find their row. The rebuild applies
// those with Apply, in log order, once the primary keys are built. Each
// event must touch its own stream's rows only, so that applying them
// later changes nothing.
//
// Starts tells, from an event's type alone, whether the event begins a row
// Load writes (its stream's later events in the batch fold into it): the
// rebuild's first pass decodes only those and the events of their streams
// after them; the others wait for the second pass undecoded, so that each
// event is read and decoded once.
type Loader interface {
	Load(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) (rest []domain.RecordedEvent, err error)
	Starts(eventType string) bool
}

// All lists the projections serve runs.
func All() []Projection {
	return []Projection{Clients{}, Lists{}, CustomFields{}, Imports{}}
}

// ByName finds a projection of All.
func ByName(name string) (Projection, bool) {
	for _, p := range All() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// Names of all projections, for lag reporting and read-your-writes.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name())
	}
	return names
}

// statements queues a batch's SQL in order and sends it in one round trip:
// the server still runs each statement, but the projector no longer waits
// for one before sending the next.
type statements struct {
	batch pgx.Batch
	what  []string // what each statement does, for error messages
}

func (s *statements) add(what, sql string, args ...any) {
	s.batch.Queue(sql, args...)
	s.what = append(s.what, what)
}

// send runs the queued statements in order and stops at the first error,
// which names the statement that failed.
func (s *statements) send(ctx context.Context, tx pgx.Tx) error {
	if s.batch.Len() == 0 {
		return nil
	}
	results := tx.SendBatch(ctx, &s.batch)
	for _, what := range s.what {
		if _, err := results.Exec(); err != nil {
			_ = results.Close() // the statement's error is the one that matters
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("apply batch: %w", err)
	}
	return nil
}
