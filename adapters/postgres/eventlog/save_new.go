package eventlog

import (
	"context"
	"errors"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// A registration's save used to be ten round trips to the server: BEGIN,
// the data key, COPY (which asks the table's columns first, then streams),
// the position, the reservations, COMMIT. Under 50 concurrent clients on two
// cores those round trips, each a wake-up of a backend and of a goroutine,
// were most of its cost. A save of streams that do not exist yet has
// nothing to read first and nothing to decide on the server, so all of it
// goes as one pipeline: the data keys, the events (an INSERT: COPY pays
// for its set-up per call, which only a large batch earns back) and the
// reservations, run by PostgreSQL as one implicit transaction, all or
// nothing. A reservation another stream holds fails the whole pipeline
// (a unique violation; a concurrent claim of the same value is waited
// for, as before); the save is then made again the usual way, which names
// the field and the stream that holds it.

// insertEvents appends the rows of a batch and answers the last position.
const insertEvents = `WITH ins AS (
	INSERT INTO events (uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, import_id)
	SELECT uuid, payload::json, metadata::json, tenant_id, stream_type, stream_id, stream_version, event_type, import_id
	FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::uuid[], $7::int[], $8::text[], $9::uuid[])
		WITH ORDINALITY AS r(uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, import_id, n)
	ORDER BY n
	RETURNING "offset")
SELECT max("offset") FROM ins`

// saveNew saves aggregates that have no stream yet in one round trip. ok
// is false when it could not (a value already reserved, a lost race): the
// pipeline then changed nothing, and the caller saves the usual way.
func (s *EventStore) saveNew(ctx context.Context, origin domain.Origin, aggs []domain.Aggregate) (position int64, ok bool, err error) {
	changes := make([]commands.RowChange, len(aggs))
	for i, agg := range aggs {
		changes[i] = commands.RowChange{Aggregate: agg}
	}
	batch := &pgx.Batch{}
	w := &pipelineWriter{batch: batch, position: &position}
	if _, err := s.appendWith(ctx, w, origin, changes); err != nil {
		return 0, false, err
	}
	if !w.queued {
		return 0, true, nil // nothing was pending
	}
	for _, agg := range aggs {
		kinds, hashes := s.reservationKeys(origin.TenantID, agg)
		if len(kinds) == 0 {
			continue
		}
		// No ON CONFLICT: a value another stream holds fails the pipeline.
		batch.Queue(`INSERT INTO reservations (tenant_id, kind, key_hash, owner_id)
			SELECT $1, k.kind, k.key_hash, $2 FROM unnest($3::text[], $4::bytea[]) AS k(kind, key_hash)
			ORDER BY 2, 3`, origin.TenantID, agg.StreamID(), kinds, hashes)
	}
	err = s.pool.SendBatch(ctx, batch).Close()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || IsDeadlock(err)) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return position, true, nil
}

// pipelineWriter is the executor the publisher writes through on the
// one-round-trip path: it queues what it is given instead of running it.
type pipelineWriter struct {
	batch    *pgx.Batch
	position *int64
	queued   bool
}

func (w *pipelineWriter) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	w.batch.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func (w *pipelineWriter) QueryRow(context.Context, string, ...any) pgx.Row {
	return errRow{errors.New("the one-round-trip save reads nothing")}
}

func (w *pipelineWriter) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errors.New("the one-round-trip save reads nothing")
}

func (w *pipelineWriter) ExecContext(_ context.Context, query string, args ...any) (wsql.Result, error) {
	var rows *eventRows
	if len(args) == 1 {
		rows, _ = args[0].(*eventRows)
	}
	if query != copyStatement || rows == nil {
		return nil, fmt.Errorf("the one-round-trip save cannot run %q", query)
	}
	n := len(rows.msgs)
	var (
		ids, payloads, metas, types, names = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		tenants, streams, imports          = make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		versions                           = make([]int32, n)
	)
	for i, msg := range rows.msgs {
		v, err := eventRow(msg)
		if err != nil {
			return nil, err
		}
		ids[i], payloads[i], metas[i], tenants[i] = v[0].(string), string(v[1].([]byte)), string(v[2].([]byte)), v[3].(pgtype.UUID)
		types[i], streams[i], versions[i], names[i], imports[i] = v[4].(string), v[5].(pgtype.UUID), v[6].(int32), v[7].(string), v[8].(pgtype.UUID)
	}
	args = []any{ids, payloads, metas, tenants, types, streams, versions, names, imports}
	w.batch.Queue(insertEvents, args...).QueryRow(func(row pgx.Row) error { return row.Scan(w.position) })
	w.queued = true
	return copied(len(rows.msgs)), nil
}

func (w *pipelineWriter) QueryContext(context.Context, string, ...any) (wsql.Rows, error) {
	return nil, errors.New("the one-round-trip save reads nothing")
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
