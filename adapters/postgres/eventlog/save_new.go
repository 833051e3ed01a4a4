package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// A registration's save used to be ten round trips to the server: BEGIN,
// the data key, COPY (which asks the table's columns first, then streams),
// the position, the reservations, COMMIT. A save of streams that do not
// exist yet has nothing to read first and nothing to decide on the server,
// so all of it goes as one pipeline: the data keys, the events (an INSERT:
// COPY pays for its set-up per call, which only a large batch earns back)
// and the reservations, run by PostgreSQL as one implicit transaction, all
// or nothing.
//
// Under 50 concurrent registrations on two cores, one such pipeline per
// request still cost the server a transaction, a WAL flush and three
// statements' executor set-up each, and 50 backends took turns on two
// cores. So the saves that wait at the same moment go together (group
// commit): each request seals its events and hashes its unique values in
// its own goroutine, then the saves queued meanwhile are sent as one
// pipeline of the same three statements by one of a few committers. A
// group is all or nothing as well; when it fails (a reservation another
// stream holds is a unique violation; a concurrent claim of the same value
// is waited for, as before), each of its saves is sent again alone, and one
// that still fails is made the usual way, which names the field and the
// stream that holds it. Nothing of a failed group stays: its transaction
// rolled back.

// insertEvents appends the rows of a batch and answers the last position
// of each stream.
const insertEvents = `WITH ins AS (
	INSERT INTO events (uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, import_id)
	SELECT uuid, payload::json, metadata::json, tenant_id, stream_type, stream_id, stream_version, event_type, import_id
	FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::uuid[], $7::int[], $8::text[], $9::uuid[])
		WITH ORDINALITY AS r(uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, import_id, n)
	ORDER BY n
	RETURNING stream_id, "offset")
SELECT stream_id, max("offset") FROM ins GROUP BY stream_id`

// insertKeys stores the data keys of new subjects.
const insertKeys = `INSERT INTO subject_keys (tenant_id, subject_id, wrapped_key)
	SELECT t, s, w FROM unnest($1::uuid[], $2::uuid[], $3::bytea[]) AS x(t, s, w)`

// insertReservations claims unique values, with no ON CONFLICT: a value
// another stream holds fails the pipeline. Sorted in the key's order, two
// groups wait for each other's values in one order and cannot deadlock.
const insertReservations = `INSERT INTO reservations (tenant_id, kind, key_hash, owner_id)
	SELECT t, k, h, o FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::uuid[]) AS r(t, k, h, o)
	ORDER BY 1, 2, 3`

const (
	// maxCommitters bounds the groups in flight at once: more would be
	// more backends sharing the cores, fewer would leave the server idle
	// while a group's WAL is flushed.
	maxCommitters = 4
	// maxGroupSaves bounds a group, so one failing group sends few saves
	// again.
	maxGroupSaves = 64
)

// saveNew saves aggregates that have no stream yet, together with the
// other saves waiting at the same moment. ok is false when it could not (a
// value already reserved, a lost race): nothing of it was written, and the
// caller saves the usual way.
func (s *EventStore) saveNew(ctx context.Context, origin domain.Origin, aggs []domain.Aggregate) (position int64, ok bool, err error) {
	changes := make([]commands.RowChange, len(aggs))
	for i, agg := range aggs {
		changes[i] = commands.RowChange{Aggregate: agg}
	}
	rows := &newRows{}
	queued, err := s.appendWith(ctx, rows, origin, changes)
	if err != nil {
		return 0, false, err
	}
	if !queued {
		return 0, true, nil // nothing was pending
	}
	tenant := pgtype.UUID{Bytes: origin.TenantID, Valid: true}
	streams := make([]uuid.UUID, len(aggs))
	for i, agg := range aggs {
		streams[i] = agg.StreamID()
		kinds, hashes := s.reservationKeys(origin.TenantID, agg)
		for j := range kinds {
			rows.resTenants = append(rows.resTenants, tenant)
			rows.resKinds = append(rows.resKinds, kinds[j])
			rows.resHashes = append(rows.resHashes, hashes[j])
			rows.resOwners = append(rows.resOwners, pgtype.UUID{Bytes: agg.StreamID(), Valid: true})
		}
	}
	p := &preparedSave{ctx: ctx, rows: rows, streams: streams, done: make(chan saveOutcome, 1)}
	out := s.group.submit(p, s.sendNew)
	if out.alone {
		// The group failed as a whole: this save alone may still pass.
		positions, err := s.sendNew(ctx, rows)
		out = saveOutcome{positions: positions, err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(out.err, &pgErr) && (pgErr.Code == "23505" || IsDeadlock(out.err)) {
		return 0, false, nil
	}
	if out.err != nil {
		return 0, false, out.err
	}
	for _, id := range streams {
		position = max(position, out.positions[id])
	}
	return position, true, nil
}

// sendNew writes rows as one pipeline, one implicit transaction, and
// answers the last position of each stream.
func (s *EventStore) sendNew(ctx context.Context, rows *newRows) (map[uuid.UUID]int64, error) {
	batch := &pgx.Batch{}
	if len(rows.keySubjects) > 0 {
		batch.Queue(insertKeys, rows.keyTenants, rows.keySubjects, rows.keyWrapped)
	}
	positions := make(map[uuid.UUID]int64, len(rows.keySubjects))
	batch.Queue(insertEvents, rows.ids, rows.payloads, rows.metas, rows.tenants, rows.types, rows.streams,
		rows.versions, rows.names, rows.imports).Query(func(r pgx.Rows) error {
		var id uuid.UUID
		var position int64
		_, err := pgx.ForEachRow(r, []any{&id, &position}, func() error {
			positions[id] = position
			return nil
		})
		return err
	})
	if len(rows.resKinds) > 0 {
		batch.Queue(insertReservations, rows.resTenants, rows.resKinds, rows.resHashes, rows.resOwners)
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, err
	}
	return positions, nil
}

// preparedSave is a save of new streams ready to be sent: sealed, encoded,
// its unique values hashed.
type preparedSave struct {
	ctx     context.Context
	rows    *newRows
	streams []uuid.UUID
	done    chan saveOutcome
}

type saveOutcome struct {
	positions map[uuid.UUID]int64
	err       error
	alone     bool // the group failed: send this save again on its own
}

// groupCommit sends the saves queued while others are being sent as one
// pipeline, with at most maxCommitters pipelines in flight.
type groupCommit struct {
	mu         sync.Mutex
	queue      []*preparedSave
	committers int
}

// submit queues p and waits for its outcome.
func (g *groupCommit) submit(p *preparedSave, send func(context.Context, *newRows) (map[uuid.UUID]int64, error)) saveOutcome {
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.committers < maxCommitters {
		g.committers++
		go g.commit(send)
	}
	g.mu.Unlock()
	return <-p.done
}

// commit sends groups until the queue is empty.
func (g *groupCommit) commit(send func(context.Context, *newRows) (map[uuid.UUID]int64, error)) {
	g.mu.Lock()
	for len(g.queue) > 0 {
		n := min(len(g.queue), maxGroupSaves)
		group := make([]*preparedSave, 0, n)
		for _, p := range g.queue[:n] {
			// A request that gave up is not written behind its back.
			if err := p.ctx.Err(); err != nil {
				p.done <- saveOutcome{err: err}
				continue
			}
			group = append(group, p)
		}
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.send(group, send)
		g.mu.Lock()
	}
	g.committers--
	g.mu.Unlock()
}

func (g *groupCommit) send(group []*preparedSave, send func(context.Context, *newRows) (map[uuid.UUID]int64, error)) {
	switch len(group) {
	case 0:
		return
	case 1:
		positions, err := send(group[0].ctx, group[0].rows)
		group[0].done <- saveOutcome{positions: positions, err: err}
		return
	}
	all := &newRows{}
	for _, p := range group {
		all.add(p.rows)
	}
	// The group is no one request's: it is sent to the end once started.
	positions, err := send(context.WithoutCancel(group[0].ctx), all)
	for _, p := range group {
		p.done <- saveOutcome{positions: positions, alone: err != nil}
	}
}

// newRows collects what a save of new streams writes. It is the executor
// the publisher and the keyring write through on that path: it keeps what
// it is given instead of running it.
type newRows struct {
	keyTenants, keySubjects            []pgtype.UUID
	keyWrapped                         [][]byte
	ids, payloads, metas, types, names []string
	tenants, streams, imports          []pgtype.UUID
	versions                           []int32
	resTenants, resOwners              []pgtype.UUID
	resKinds                           []string
	resHashes                          [][]byte
}

func (r *newRows) add(o *newRows) {
	r.keyTenants, r.keySubjects, r.keyWrapped = append(r.keyTenants, o.keyTenants...), append(r.keySubjects, o.keySubjects...), append(r.keyWrapped, o.keyWrapped...)
	r.ids, r.payloads, r.metas = append(r.ids, o.ids...), append(r.payloads, o.payloads...), append(r.metas, o.metas...)
	r.types, r.names, r.versions = append(r.types, o.types...), append(r.names, o.names...), append(r.versions, o.versions...)
	r.tenants, r.streams, r.imports = append(r.tenants, o.tenants...), append(r.streams, o.streams...), append(r.imports, o.imports...)
	r.resTenants, r.resOwners = append(r.resTenants, o.resTenants...), append(r.resOwners, o.resOwners...)
	r.resKinds, r.resHashes = append(r.resKinds, o.resKinds...), append(r.resHashes, o.resHashes...)
}

// addSubjectKeys keeps new data keys (see Keyring.createSubjectKeys).
func (r *newRows) addSubjectKeys(tenantID uuid.UUID, subjects []uuid.UUID, wrapped [][]byte) {
	for i, id := range subjects {
		r.keyTenants = append(r.keyTenants, pgtype.UUID{Bytes: tenantID, Valid: true})
		r.keySubjects = append(r.keySubjects, pgtype.UUID{Bytes: id, Valid: true})
		r.keyWrapped = append(r.keyWrapped, wrapped[i])
	}
}

func (r *newRows) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, fmt.Errorf("the save of new streams cannot run %q", sql)
}

func (r *newRows) QueryRow(context.Context, string, ...any) pgx.Row {
	return errRow{errors.New("the save of new streams reads nothing")}
}

func (r *newRows) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errors.New("the save of new streams reads nothing")
}

func (r *newRows) ExecContext(_ context.Context, query string, args ...any) (wsql.Result, error) {
	var rows *eventRows
	if len(args) == 1 {
		rows, _ = args[0].(*eventRows)
	}
	if query != copyStatement || rows == nil {
		return nil, fmt.Errorf("the save of new streams cannot run %q", query)
	}
	for _, msg := range rows.msgs {
		v, err := eventRow(msg)
		if err != nil {
			return nil, err
		}
		r.ids, r.payloads, r.metas, r.tenants = append(r.ids, v[0].(string)), append(r.payloads, string(v[1].([]byte))),
			append(r.metas, string(v[2].([]byte))), append(r.tenants, v[3].(pgtype.UUID))
		r.types, r.streams, r.versions = append(r.types, v[4].(string)), append(r.streams, v[5].(pgtype.UUID)), append(r.versions, v[6].(int32))
		r.names, r.imports = append(r.names, v[7].(string)), append(r.imports, v[8].(pgtype.UUID))
	}
	return copied(len(rows.msgs)), nil
}

func (r *newRows) QueryContext(context.Context, string, ...any) (wsql.Rows, error) {
	return nil, errors.New("the save of new streams reads nothing")
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
