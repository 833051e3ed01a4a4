package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/projections"
)

// ReadModels answers the API's queries: those of the read models (the
// projections' own Queries) and those of the projectors' progress, which
// this package keeps.
type ReadModels struct {
	*projections.Queries
	pool *pgxpool.Pool
}

func NewReadModels(pool *pgxpool.Pool) *ReadModels {
	return &ReadModels{Queries: projections.NewQueries(pool), pool: pool}
}

// Stats is the dashboard: the read models' figures and the projections' lag.
func (r *ReadModels) Stats(ctx context.Context, tenantID uuid.UUID) (projections.Stats, error) {
	st, err := r.Queries.Stats(ctx, tenantID)
	if err != nil {
		return st, err
	}
	st.Projections, err = r.ProjectionStatus(ctx, projections.Names())
	return st, err
}

// reachedQuery tells whether a consumer group has applied the event at a
// position. A projector reads ahead of a transaction that was still
// running or that it read only in part (events_offsets_open, with how far
// it got in it); of the others, it has applied everything up to its
// frontier (transaction, offset). A group of rare streams only ($4) reads
// the log of rare events alone: for a client event it must have applied
// the tenant's last rare event before it, if there is one (a tenant's
// events are applied in order, so then all of its earlier ones too).
// A group that has not registered its offset yet has reached nothing.
var reachedQuery = `SELECT count(*) = cardinality($2::text[]) AND coalesce(bool_and(CASE
		WHEN t."offset" IS NULL THEN true
		WHEN h.transaction_id IS NOT NULL THEN h.offset_acked >= t."offset"
		ELSE o.last_processed_transaction_id > t.transaction_id OR
			(o.last_processed_transaction_id = t.transaction_id AND o.offset_acked >= t."offset") END), false)
	FROM events e CROSS JOIN events_offsets o
	LEFT JOIN LATERAL (
		SELECT e.transaction_id, e."offset" WHERE NOT (o.consumer_group = ANY($4) AND NOT ` + eventlog.RareEvent("e.") + `)
		UNION ALL
		(SELECT r.transaction_id, r."offset" FROM events r
		WHERE o.consumer_group = ANY($4) AND NOT ` + eventlog.RareEvent("e.") + `
			AND r.tenant_id = e.tenant_id AND ` + eventlog.RareEvent("r.") + `
			AND (r.transaction_id, r."offset") < (e.transaction_id, e."offset")
		ORDER BY r.transaction_id DESC, r."offset" DESC LIMIT 1)) AS t ON true
	LEFT JOIN events_offsets_open h ON h.consumer_group = o.consumer_group AND h.transaction_id = t.transaction_id
	WHERE e."offset" = $1 AND o.consumer_group = ANY($2)`

// rareGroups are the groups of names whose projections read rare streams
// only (eventlog.RareStreamsOnly).
func rareGroups(names []string) []string {
	rare := []string{}
	for _, name := range names {
		if p, ok := projections.ByName(name); ok && eventlog.RareStreamsOnly(p.StreamTypes()) {
			rare = append(rare, name)
		}
	}
	return rare
}

// WaitForPosition blocks until every named projection has applied the
// tenant's event at position, or until timeout. A position that is not one
// of the tenant's events is an error at once rather than a wait.
func (r *ReadModels) WaitForPosition(ctx context.Context, tenantID uuid.UUID, position int64, groups []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rare := rareGroups(groups)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		var reached, exists bool
		err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE "offset" = $1 AND tenant_id = $3), (`+reachedQuery+`)`,
			position, groups, tenantID, rare).Scan(&exists, &reached)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("check projection position: %w", err)
		}
		if reached {
			return nil
		}
		if err == nil && !exists {
			return fmt.Errorf("%w: %d", projections.ErrNoSuchPosition, position)
		}
		select {
		case <-ctx.Done():
			return projections.ErrPositionNotReached
		case <-time.After(delay):
		}
	}
}

// maxCountedLag caps the events counted behind a projection: the ORDER BY
// and LIMIT make the count walk the log's index from the projection's
// position instead of scanning the whole log, and a dashboard needs no
// exact figure past it.
const maxCountedLag = 100_000

// lagQuery counts the events after group g's frontier (o) and those left
// in the transactions it moved past, of the events that meet cond.
func lagQuery(cond string) string {
	return `(SELECT count(*) FROM (SELECT FROM events e WHERE (e.transaction_id, e."offset") >
				(coalesce(o.last_processed_transaction_id, '0'), coalesce(o.offset_acked, 0))` + cond + `
				ORDER BY e.transaction_id, e."offset" LIMIT ` + strconv.Itoa(maxCountedLag) + `) AS behind) +
			(SELECT count(*) FROM (SELECT FROM events_offsets_open h CROSS JOIN LATERAL (
				SELECT FROM events e WHERE e.transaction_id = h.transaction_id AND e."offset" > h.offset_acked` + cond + `
				LIMIT ` + strconv.Itoa(maxCountedLag) + `) AS open_events
				WHERE h.consumer_group = g.name AND pg_visible_in_snapshot(h.transaction_id, pg_current_snapshot())) AS open)`
}

// ProjectionStatus reports each group's position against the log's head.
// Position is the offset of the group's frontier; Lag counts the events
// after it and those of committed transactions it moved past before
// reading them all, up to maxCountedLag each.
func (r *ReadModels) ProjectionStatus(ctx context.Context, groups []string) ([]projections.Status, error) {
	rows, err := r.pool.Query(ctx, `SELECT g.name,
			coalesce(o.offset_acked, 0),
			(SELECT coalesce(max("offset"), 0) FROM events),
			CASE WHEN g.name = ANY($2) THEN `+lagQuery(" AND "+eventlog.RareEvent("e."))+`
				ELSE `+lagQuery("")+` END,
			(SELECT count(*) FROM projection_failures f WHERE f.projection = g.name)
		FROM unnest($1::text[]) AS g(name)
		LEFT JOIN events_offsets o ON o.consumer_group = g.name
		ORDER BY g.name`, groups, rareGroups(groups))
	if err != nil {
		return nil, fmt.Errorf("read projection status: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (projections.Status, error) {
		var s projections.Status
		err := row.Scan(&s.Name, &s.Position, &s.Head, &s.Lag, &s.Failures)
		return s, err
	})
}

// WaitCaughtUp blocks until every projection has applied the whole log as
// it stands, or until timeout (projections.ErrPositionNotReached).
func (r *ReadModels) WaitCaughtUp(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		status, err := r.ProjectionStatus(ctx, projections.Names())
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil && !slices.ContainsFunc(status, func(s projections.Status) bool { return s.Lag > 0 }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return projections.ErrPositionNotReached
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ListMembers proposes the clients that ever joined a list, from the log
// itself: exact the moment a list was filled, and waiting on no projection.
func (r *ReadModels) ListMembers(ctx context.Context, tenantID, listID uuid.UUID) ([]uuid.UUID, error) {
	return eventlog.StreamsWithEvent(ctx, r.pool, tenantID, "ClientAddedToList", "list_id", listID.String())
}
