package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// ReadModels answers queries from the projections' tables. Every query is
// scoped by tenant.
type ReadModels struct {
	pool *pgxpool.Pool
}

func NewReadModels(pool *pgxpool.Pool) *ReadModels { return &ReadModels{pool: pool} }

const clientColumns = `id, version, position, status, kind, first_name, last_name, company_name, display_name,
	email, language, phone, vat_number, street, house_number, box, postal_code, city, country,
	external_refs, custom_fields, contact_persons, list_ids, created_at, updated_at, deleted_at, sort_name,
	removed_at_source, access_status, notes`

func scanClient(row pgx.Row) (projections.ClientView, string, error) {
	var c projections.ClientView
	var sortName string
	a := &c.Address
	err := row.Scan(&c.ID, &c.Version, &c.Position, &c.Status, &c.Kind, &c.FirstName, &c.LastName, &c.CompanyName,
		&c.DisplayName, &c.Email, &c.Language, &c.Phone, &c.VATNumber, &a.Street, &a.HouseNumber, &a.Box,
		&a.PostalCode, &a.City, &a.Country, &c.ExternalRefs, &c.CustomFields, &c.ContactPersons, &c.Lists,
		&c.CreatedAt, &c.UpdatedAt, &c.DeletedAt, &sortName, &c.RemovedAtSource, &c.AccessStatus, &c.Notes)
	return c, sortName, err
}

// Client returns one client of the tenant.
func (r *ReadModels) Client(ctx context.Context, tenantID, id uuid.UUID) (projections.ClientView, error) {
	c, _, err := scanClient(r.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM rm_clients WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, domain.ErrClientNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read client: %w", err)
	}
	return c, nil
}

type clientCursor struct {
	SortName string    `json:"s"`
	ID       uuid.UUID `json:"i"`
}

// SearchClients pages through the tenant's clients in a stable order (name,
// then id) with keyset pagination, so pages neither skip nor repeat rows
// while others write.
func (r *ReadModels) SearchClients(ctx context.Context, tenantID uuid.UUID, f projections.ClientFilter) (projections.ClientPage, error) {
	limit := clampLimit(f.Limit)
	where := []string{"tenant_id = $1"}
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	switch f.Status {
	case "", "active":
		where = append(where, "status = 'active'")
	case "deleted", "erased":
		where = append(where, "status = "+arg(f.Status))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		cond := "search LIKE " + arg("%"+escapeLike(strings.ToLower(q))+"%")
		if vat, err := domain.NormalizeVATNumber("q", q); err == nil {
			cond = "(" + cond + " OR vat_number = " + arg(vat) + ")"
		}
		where = append(where, cond)
	}
	if f.ListID != nil {
		where = append(where, "list_ids @> ARRAY["+arg(*f.ListID)+"::uuid]")
	}
	if f.Source != "" {
		where = append(where, "sources @> ARRAY["+arg(f.Source)+"::text]")
	}
	if f.ImportID != nil {
		where = append(where, "import_ids @> ARRAY["+arg(*f.ImportID)+"::uuid]")
	}
	if f.Cursor != "" {
		var c clientCursor
		if err := decodeCursor(f.Cursor, &c); err != nil {
			return projections.ClientPage{}, err
		}
		where = append(where, "(sort_name, id) > ("+arg(c.SortName)+", "+arg(c.ID)+")")
	}
	q := `SELECT ` + clientColumns + ` FROM rm_clients WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY sort_name, id LIMIT ` + fmt.Sprint(limit+1)
	rows, err := r.pool.Query(ctx, q, args...)
	if err != nil {
		return projections.ClientPage{}, fmt.Errorf("search clients: %w", err)
	}
	defer rows.Close()
	page := projections.ClientPage{Items: []projections.ClientView{}}
	var lastSort string
	for rows.Next() {
		c, sortName, err := scanClient(rows)
		if err != nil {
			return projections.ClientPage{}, fmt.Errorf("scan client: %w", err)
		}
		if len(page.Items) == limit {
			last := page.Items[limit-1]
			page.NextCursor = encodeCursor(clientCursor{SortName: lastSort, ID: last.ID})
			break
		}
		page.Items = append(page.Items, c)
		lastSort = sortName
	}
	return page, rows.Err()
}

// clampLimit bounds a page size: 50 unless asked for, at most 200.
func clampLimit(limit int) int {
	if limit <= 0 || limit > 200 {
		return 50
	}
	return limit
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Lists returns the tenant's lists with their active member counts.
func (r *ReadModels) Lists(ctx context.Context, tenantID uuid.UUID) ([]projections.ListView, error) {
	rows, err := r.pool.Query(ctx, `SELECT l.id, l.version, l.name, l.created_at, l.updated_at,
		(SELECT count(*) FROM rm_clients c WHERE c.tenant_id = l.tenant_id AND c.status = 'active' AND c.list_ids @> ARRAY[l.id])
		FROM rm_lists l WHERE l.tenant_id = $1 ORDER BY lower(l.name), l.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (projections.ListView, error) {
		var l projections.ListView
		err := row.Scan(&l.ID, &l.Version, &l.Name, &l.CreatedAt, &l.UpdatedAt, &l.Members)
		return l, err
	})
}

// ListExists tells whether the tenant has a live list with this id.
func (r *ReadModels) ListExists(ctx context.Context, tenantID, id uuid.UUID) (bool, error) {
	var ok bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rm_lists WHERE tenant_id = $1 AND id = $2)`, tenantID, id).Scan(&ok)
	return ok, err
}

// CustomFields returns the tenant's custom field definitions.
func (r *ReadModels) CustomFields(ctx context.Context, tenantID uuid.UUID) ([]projections.CustomFieldView, error) {
	rows, err := r.pool.Query(ctx, `SELECT name, type, options, created_at FROM rm_custom_fields
		WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read custom fields: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (projections.CustomFieldView, error) {
		var f projections.CustomFieldView
		err := row.Scan(&f.Name, &f.Type, &f.Options, &f.CreatedAt)
		return f, err
	})
}

// reachedQuery tells whether a consumer group has processed the event at a
// position. Groups consume in (transaction_id, offset) order, so "reached"
// compares that pair, not the offset alone.
// A group that has not registered its offset yet has reached nothing.
const reachedQuery = `SELECT count(*) = cardinality($2::text[]) AND coalesce(bool_and(
		o.last_processed_transaction_id > e.transaction_id OR
		(o.last_processed_transaction_id = e.transaction_id AND o.offset_acked >= e."offset")), false)
	FROM events e CROSS JOIN events_offsets o
	WHERE e."offset" = $1 AND o.consumer_group = ANY($2)`

// WaitForPosition blocks until every named projection has applied the
// tenant's event at position, or until timeout. A position that is not one
// of the tenant's events is an error at once rather than a wait.
func (r *ReadModels) WaitForPosition(ctx context.Context, tenantID uuid.UUID, position int64, groups []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		var reached, exists bool
		err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE "offset" = $1 AND tenant_id = $3), (`+reachedQuery+`)`,
			position, groups, tenantID).Scan(&exists, &reached)
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

// ProjectionStatus reports each group's position against the log's head.
// Position is the highest offset the group has acknowledged; Lag counts
// the events after it, up to maxCountedLag.
func (r *ReadModels) ProjectionStatus(ctx context.Context, groups []string) ([]projections.Status, error) {
	rows, err := r.pool.Query(ctx, `SELECT g.name,
			coalesce(o.offset_acked, 0),
			(SELECT coalesce(max("offset"), 0) FROM events),
			(SELECT count(*) FROM (SELECT FROM events e WHERE (e.transaction_id, e."offset") >
				(coalesce(o.last_processed_transaction_id, '0'), coalesce(o.offset_acked, 0))
				ORDER BY e.transaction_id, e."offset" LIMIT `+strconv.Itoa(maxCountedLag)+`) AS behind),
			(SELECT count(*) FROM projection_failures f WHERE f.projection = g.name)
		FROM unnest($1::text[]) AS g(name)
		LEFT JOIN events_offsets o ON o.consumer_group = g.name
		ORDER BY g.name`, groups)
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
