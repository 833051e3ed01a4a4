package projections

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Lists returns the tenant's lists with their active member counts.
func (r *Queries) Lists(ctx context.Context, tenantID uuid.UUID) ([]ListView, error) {
	rows, err := r.db.Query(ctx, `SELECT l.id, l.version, l.name, l.created_at, l.updated_at,
		(SELECT count(*) FROM rm_clients c WHERE c.tenant_id = l.tenant_id AND c.status = 'active' AND c.list_ids @> ARRAY[l.id] AND c.list_ids <> '{}')
		FROM rm_lists l WHERE l.tenant_id = $1 ORDER BY lower(l.name), l.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListView, error) {
		var l ListView
		err := row.Scan(&l.ID, &l.Version, &l.Name, &l.CreatedAt, &l.UpdatedAt, &l.Members)
		return l, err
	})
}

// ListExists tells whether the tenant has a live list with this id.
func (r *Queries) ListExists(ctx context.Context, tenantID, id uuid.UUID) (bool, error) {
	var ok bool
	err := r.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rm_lists WHERE tenant_id = $1 AND id = $2)`, tenantID, id).Scan(&ok)
	return ok, err
}

// CustomFields returns the tenant's custom field definitions.
func (r *Queries) CustomFields(ctx context.Context, tenantID uuid.UUID) ([]CustomFieldView, error) {
	rows, err := r.db.Query(ctx, `SELECT name, type, options, created_at FROM rm_custom_fields
		WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read custom fields: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (CustomFieldView, error) {
		var f CustomFieldView
		err := row.Scan(&f.Name, &f.Type, &f.Options, &f.CreatedAt)
		return f, err
	})
}
