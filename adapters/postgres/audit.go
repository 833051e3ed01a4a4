package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Audit answers from the log itself: timelines, past states, the event
// feed. Nothing here reads a projection except import labels.
type Audit struct {
	pool  *pgxpool.Pool
	store *eventlog.EventStore
}

// NewAudit builds the audit queries over the event store.
func NewAudit(pool *pgxpool.Pool, store *eventlog.EventStore) *Audit {
	return &Audit{pool: pool, store: store}
}

// stream reads a tenant's stream and checks its type: another tenant's
// stream, or one of another type, is not found.
func (a *Audit) stream(ctx context.Context, tenantID, id uuid.UUID, streamType string, notFound error) ([]domain.RecordedEvent, error) {
	events, err := a.store.ReadStream(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 || events[0].StreamType != streamType {
		return nil, notFound
	}
	return events, nil
}

// ClientHistory is the client's timeline, with import labels filled in.
func (a *Audit) ClientHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error) {
	events, err := a.stream(ctx, tenantID, id, domain.StreamClient, domain.ErrClientNotFound)
	if err != nil {
		return nil, err
	}
	entries := projections.ClientHistory(events)
	return entries, a.labelImports(ctx, tenantID, entries)
}

// ClientAsOf is the client as it was at the given moment, folded from the
// events that had happened by then.
func (a *Audit) ClientAsOf(ctx context.Context, tenantID, id uuid.UUID, at time.Time) (projections.ClientView, error) {
	events, err := a.stream(ctx, tenantID, id, domain.StreamClient, domain.ErrClientNotFound)
	if err != nil {
		return projections.ClientView{}, err
	}
	n := 0
	for n < len(events) && !events[n].OccurredAt.After(at) {
		n++
	}
	view, ok := projections.FoldClient(events[:n])
	if !ok {
		return view, fmt.Errorf("%w at %s: it was registered later", domain.ErrClientNotFound, at.Format(time.RFC3339))
	}
	return view, nil
}

// ImportHistory is the import's own timeline: analysis, execution, undo.
func (a *Audit) ImportHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error) {
	events, err := a.stream(ctx, tenantID, id, domain.StreamImport, domain.ErrImportNotFound)
	if err != nil {
		return nil, err
	}
	entries, err := projections.StreamHistory(events)
	if err != nil {
		return nil, err
	}
	return entries, a.labelImports(ctx, tenantID, entries)
}

// ConnectionHistory is a connection's own timeline: connected, authorized,
// sync runs, revoked. Its events never hold secrets.
func (a *Audit) ConnectionHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error) {
	events, err := a.stream(ctx, tenantID, id, domain.StreamConnection, domain.ErrConnectionNotFound)
	if err != nil {
		return nil, err
	}
	return projections.StreamHistory(events)
}

// labelImports names the imports entries came from by their labels, read
// from the imports' own streams (the log, not a read model that may lag).
func (a *Audit) labelImports(ctx context.Context, tenantID uuid.UUID, entries []projections.HistoryEntry) error {
	labels := map[uuid.UUID]string{}
	for i := range entries {
		id := entries[i].Cause.ImportID
		if id == nil {
			continue
		}
		label, ok := labels[*id]
		if !ok {
			imp := domain.NewImport(*id)
			if err := a.store.Load(ctx, tenantID, imp); err != nil {
				return err
			}
			label = imp.Label()
			labels[*id] = label
		}
		entries[i].Cause.ImportLabel = label
	}
	return nil
}

// Events pages through the tenant's events in the order every projection
// sees them: by transaction, then position, and only once every older
// transaction has finished. A long import's events become visible when it
// commits, after events with higher positions maybe, and a reader that
// resumes after the last position it got still receives them: the cursor
// stands for (transaction of that event, position), not the position alone.
func (a *Audit) Events(ctx context.Context, tenantID uuid.UUID, f projections.EventFilter) (projections.EventPage, error) {
	args := []any{tenantID, f.After, projections.PageLimit(f.Limit)}
	where := ""
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.Types) > 0 {
		where += " AND e.event_type = ANY(" + arg(f.Types) + ")"
	}
	if f.StreamID != nil {
		where += " AND e.stream_id = " + arg(*f.StreamID)
	}
	if f.Actor != "" {
		where += " AND e.metadata->>'actor' = " + arg(f.Actor)
	}
	if !f.Since.IsZero() {
		where += " AND e.recorded_at >= " + arg(f.Since)
	}
	rows, err := a.pool.Query(ctx, `
		WITH cursor AS (
			SELECT coalesce((SELECT transaction_id FROM events WHERE "offset" <= $2 ORDER BY "offset" DESC LIMIT 1), '0'::xid8) AS tx)
		SELECT e."offset", e.tenant_id, e.stream_id, e.payload, e.metadata FROM events e, cursor
		WHERE e.tenant_id = $1 AND (e.transaction_id, e."offset") > (cursor.tx, $2)
			AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())`+where+`
		ORDER BY e.transaction_id, e."offset"
		LIMIT $3`, args...)
	if err != nil {
		return projections.EventPage{}, fmt.Errorf("read events: %w", err)
	}
	events, err := a.store.DecodeRows(ctx, rows)
	if err != nil {
		return projections.EventPage{}, err
	}
	page := projections.EventPage{Items: make([]projections.FeedEvent, 0, len(events)), NextAfter: f.After}
	for _, e := range events {
		item, err := projections.FeedEventOf(e)
		if err != nil {
			return projections.EventPage{}, err
		}
		page.Items = append(page.Items, item)
		page.NextAfter = e.Position
	}
	return page, nil
}

// ClientByEmail finds the live client holding an email, through the
// reservations (which hold keyed hashes, never the email).
func (a *Audit) ClientByEmail(ctx context.Context, tenantID uuid.UUID, email string) (uuid.UUID, error) {
	key := domain.EmailLookupKey(domain.EmailKey(email))
	var owner uuid.UUID
	err := a.pool.QueryRow(ctx, `SELECT owner_id FROM reservations WHERE tenant_id = $1 AND kind = $2 AND key_hash = $3`,
		tenantID, key.Kind, a.store.Keys().ReservationHash(tenantID, key.Kind, key.Value)).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, domain.ErrClientNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find client by email: %w", err)
	}
	return owner, nil
}

// ImportByLabel finds an import by its label ("2026-11-21 #3").
func (a *Audit) ImportByLabel(ctx context.Context, tenantID uuid.UUID, label string) (uuid.UUID, error) {
	var id uuid.UUID
	err := a.pool.QueryRow(ctx, `SELECT id FROM rm_imports WHERE tenant_id = $1 AND label = $2`, tenantID, label).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, domain.ErrImportNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find import by label: %w", err)
	}
	return id, nil
}
