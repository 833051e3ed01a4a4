package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Difference is one place where a read model disagrees with the log.
type Difference struct {
	TenantID       uuid.UUID `json:"tenant_id"`
	Stream         string    `json:"stream"` // "client 5f0c…", "list …", "counts"
	Field          string    `json:"field"`
	LogValue       string    `json:"log"`
	ReadModelValue string    `json:"read_model"`
}

// Verifier folds every stream from the log and compares the result with
// the read models.
type Verifier struct {
	pool  *pgxpool.Pool
	store *eventlog.EventStore
}

// NewVerifier builds a verifier over the event store.
func NewVerifier(pool *pgxpool.Pool, store *eventlog.EventStore) *Verifier {
	return &Verifier{pool: pool, store: store}
}

// verifyChunk is how many streams are read and compared at once.
const verifyChunk = 1000

// Verify compares the read models of one tenant (or every tenant when
// tenantID is nil) with the log, calling report for each difference. The
// read models should be caught up with the log first (WaitForPosition).
func (v *Verifier) Verify(ctx context.Context, tenantID *uuid.UUID, report func(Difference)) error {
	var tenants []uuid.UUID
	if tenantID != nil {
		tenants = []uuid.UUID{*tenantID}
	} else {
		rows, err := v.pool.Query(ctx, `SELECT id FROM tenants ORDER BY name`)
		if err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
		if tenants, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
	}
	for _, t := range tenants {
		for _, check := range []func(context.Context, uuid.UUID, func(Difference)) error{v.clients, v.counts, v.lists, v.imports} {
			if err := check(ctx, t, report); err != nil {
				return err
			}
		}
	}
	return nil
}

// streamIDs lists the streams of a type the log or the read model knows.
func (v *Verifier) streamIDs(ctx context.Context, tenantID uuid.UUID, streamType, table string) ([]uuid.UUID, error) {
	rows, err := v.pool.Query(ctx, `SELECT DISTINCT stream_id FROM events WHERE tenant_id = $1 AND stream_type = $2
		UNION SELECT id FROM `+table+` WHERE tenant_id = $1 ORDER BY 1`, tenantID, streamType)
	if err != nil {
		return nil, fmt.Errorf("list %s streams: %w", streamType, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list %s streams: %w", streamType, err)
	}
	return ids, nil
}

func (v *Verifier) streams(ctx context.Context, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error) {
	rows, err := v.pool.Query(ctx, `SELECT `+eventlog.StoredColumns+` FROM events
		WHERE tenant_id = $1 AND stream_id = ANY($2) ORDER BY stream_id, stream_version`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("read streams: %w", err)
	}
	events, err := v.store.DecodeRows(ctx, rows)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]domain.RecordedEvent{}
	for _, e := range events {
		// As the projections apply it (an older version let NULs in).
		e.Event, _ = domain.ScrubEvent(e.Event)
		out[e.StreamID] = append(out[e.StreamID], e)
	}
	return out, nil
}

// SetAside lists the events the projections set aside (of one tenant, or
// of all when tenantID is nil), in log order: their read models do not
// hold them.
func (v *Verifier) SetAside(ctx context.Context, tenantID *uuid.UUID) ([]SetAsideEvent, error) {
	rows, err := v.pool.Query(ctx, `SELECT f.projection, f.event_offset, f.event_id, f.event_type, f.error, f.failed_at
		FROM projection_failures f LEFT JOIN events e ON e."offset" = f.event_offset
		WHERE $1::uuid IS NULL OR e.tenant_id = $1 ORDER BY f.event_offset, f.projection`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list set-aside events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SetAsideEvent, error) {
		var e SetAsideEvent
		err := row.Scan(&e.Projection, &e.Position, &e.EventID, &e.EventType, &e.Error, &e.FailedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list set-aside events: %w", err)
	}
	return out, nil
}

// readableStreams reads a chunk's streams one at a time, after the chunk
// could not be read whole: a stream with an event that cannot be decoded is
// a difference ("unreadable", with the reason) and is left out, so the
// others are still compared.
func (v *Verifier) readableStreams(ctx context.Context, tenantID uuid.UUID, streamType string, ids []uuid.UUID,
	report func(Difference)) (map[uuid.UUID][]domain.RecordedEvent, map[uuid.UUID]bool, error) {
	out, unreadable := map[uuid.UUID][]domain.RecordedEvent{}, map[uuid.UUID]bool{}
	for _, id := range ids {
		one, err := v.streams(ctx, tenantID, []uuid.UUID{id})
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			unreadable[id] = true
			report(Difference{TenantID: tenantID, Stream: streamType + " " + id.String(), Field: "unreadable",
				LogValue: domain.CleanText(err.Error(), 500)})
			continue
		}
		out[id] = one[id]
	}
	return out, unreadable, nil
}

// fields is a record as verify compares it; nil is "absent".
type fields = map[string]string

// checkStreams compares, a chunk of streams at a time, each stream of a
// type folded from the log with what its read model holds.
func (v *Verifier) checkStreams(ctx context.Context, tenantID uuid.UUID, streamType, table string,
	load func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]fields, error),
	fold func(id uuid.UUID, events []domain.RecordedEvent) fields, report func(Difference)) error {
	ids, err := v.streamIDs(ctx, tenantID, streamType, table)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, verifyChunk) {
		streams, err := v.streams(ctx, tenantID, chunk)
		var unreadable map[uuid.UUID]bool
		if err != nil {
			if streams, unreadable, err = v.readableStreams(ctx, tenantID, streamType, chunk, report); err != nil {
				return err
			}
		}
		stored, err := load(ctx, chunk)
		if err != nil {
			return err
		}
		for _, id := range chunk {
			if unreadable[id] {
				continue
			}
			for _, d := range compareFields(fold(id, streams[id]), stored[id]) {
				d.TenantID, d.Stream = tenantID, streamType+" "+id.String()
				report(d)
			}
		}
	}
	return nil
}

func (v *Verifier) clients(ctx context.Context, tenantID uuid.UUID, report func(Difference)) error {
	load := func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]fields, error) {
		clients, err := projections.NewQueries(v.pool).ClientsByID(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		stored := make(map[uuid.UUID]fields, len(clients))
		for id, c := range clients {
			stored[id] = clientFields(c)
		}
		return stored, nil
	}
	fold := func(_ uuid.UUID, events []domain.RecordedEvent) fields {
		if c, ok := projections.FoldClient(events); ok {
			return clientFields(c)
		}
		return nil
	}
	return v.checkStreams(ctx, tenantID, domain.StreamClient, "rm_clients", load, fold, report)
}

// clientFields is what verify compares of a client: every field a person
// sees, and where the stream stands.
func clientFields(c projections.ClientView) fields {
	out := projections.FlattenClient(c)
	out["version"] = strconv.Itoa(c.Version)
	out["position"] = strconv.FormatInt(c.Position, 10)
	out["created_at"] = timestamp(c.CreatedAt)
	out["updated_at"] = timestamp(c.UpdatedAt)
	if c.DeletedAt != nil {
		out["deleted_at"] = timestamp(*c.DeletedAt)
	}
	return out
}

// timestamp renders a time as PostgreSQL keeps it: to the microsecond.
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

// compareFields lists the fields whose values differ, in name order; the
// log's value comes first. A record missing on one side differs in
// "exists".
func compareFields(log, model fields) []Difference {
	if (log == nil) != (model == nil) {
		return []Difference{{Field: "exists", LogValue: strconv.FormatBool(log != nil), ReadModelValue: strconv.FormatBool(model != nil)}}
	}
	keys := slices.Sorted(maps.Keys(log))
	for k := range model {
		if _, ok := log[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Difference
	for _, k := range keys {
		if log[k] != model[k] {
			out = append(out, Difference{Field: k, LogValue: log[k], ReadModelValue: model[k]})
		}
	}
	return out
}

// counts checks the dashboard counters against a fresh count of the
// clients read model.
func (v *Verifier) counts(ctx context.Context, tenantID uuid.UUID, report func(Difference)) error {
	drifts, err := projections.NewQueries(v.pool).CountDrifts(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, d := range drifts {
		report(Difference{TenantID: tenantID, Stream: "client counts", Field: d.Dimension + " " + d.Key,
			LogValue: strconv.FormatInt(d.Fresh, 10), ReadModelValue: strconv.FormatInt(d.Kept, 10)})
	}
	return nil
}

func (v *Verifier) lists(ctx context.Context, tenantID uuid.UUID, report func(Difference)) error {
	load := func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]fields, error) {
		rows, err := v.pool.Query(ctx, `SELECT id, name, version FROM rm_lists WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
		if err != nil {
			return nil, fmt.Errorf("read lists: %w", err)
		}
		stored := map[uuid.UUID]fields{}
		var id uuid.UUID
		var name string
		var version int
		_, err = pgx.ForEachRow(rows, []any{&id, &name, &version}, func() error {
			stored[id] = fields{"name": name, "version": strconv.Itoa(version)}
			return nil
		})
		return stored, err
	}
	fold := func(id uuid.UUID, events []domain.RecordedEvent) fields {
		l := domain.NewList(id)
		for _, e := range events {
			l.Apply(e)
		}
		if l.Version() == 0 || l.Deleted() {
			return nil // the read model holds live lists only
		}
		return fields{"name": l.Name(), "version": strconv.Itoa(l.Version())}
	}
	return v.checkStreams(ctx, tenantID, domain.StreamList, "rm_lists", load, fold, report)
}

func (v *Verifier) imports(ctx context.Context, tenantID uuid.UUID, report func(Difference)) error {
	load := func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]fields, error) {
		rows, err := v.pool.Query(ctx, `SELECT id, status, label, version FROM rm_imports WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
		if err != nil {
			return nil, fmt.Errorf("read imports: %w", err)
		}
		stored := map[uuid.UUID]fields{}
		var id uuid.UUID
		var status, label string
		var version int
		_, err = pgx.ForEachRow(rows, []any{&id, &status, &label, &version}, func() error {
			stored[id] = fields{"status": status, "label": label, "version": strconv.Itoa(version)}
			return nil
		})
		return stored, err
	}
	fold := func(id uuid.UUID, events []domain.RecordedEvent) fields {
		imp := domain.NewImport(id)
		for _, e := range events {
			imp.Apply(e)
		}
		if imp.Version() == 0 {
			return nil
		}
		return fields{"status": imp.Status(), "label": imp.Label(), "version": strconv.Itoa(imp.Version())}
	}
	return v.checkStreams(ctx, tenantID, domain.StreamImport, "rm_imports", load, fold, report)
}
