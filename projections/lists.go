package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Lists maintains rm_lists: the tenant's live lists.
type Lists struct{}

func (Lists) Name() string { return "lists" }

func (Lists) Apply(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent) error {
	var err error
	switch ev := e.Event.(type) {
	case domain.ListCreated:
		_, err = tx.Exec(ctx, `INSERT INTO rm_lists (tenant_id, id, version, name, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id, id) DO NOTHING`,
			e.TenantID, e.StreamID, e.StreamVersion, ev.Name, e.OccurredAt)
	case domain.ListRenamed:
		_, err = tx.Exec(ctx, `UPDATE rm_lists SET name = $4, version = $3, updated_at = $5
			WHERE tenant_id = $1 AND id = $2 AND version < $3`,
			e.TenantID, e.StreamID, e.StreamVersion, ev.Name, e.OccurredAt)
	case domain.ListDeleted:
		_, err = tx.Exec(ctx, `DELETE FROM rm_lists WHERE tenant_id = $1 AND id = $2`, e.TenantID, e.StreamID)
	}
	if err != nil {
		return fmt.Errorf("apply %s to list %s: %w", e.EventName, e.StreamID, err)
	}
	return nil
}

// CustomFields maintains rm_custom_fields: the tenant's field definitions.
type CustomFields struct{}

func (CustomFields) Name() string { return "custom_fields" }

func (CustomFields) Apply(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent) error {
	ev, ok := e.Event.(domain.CustomFieldDefined)
	if !ok {
		return nil
	}
	options := ev.Options
	if options == nil {
		options = []string{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rm_custom_fields (tenant_id, name, type, options, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, name) DO NOTHING`,
		e.TenantID, ev.Name, ev.Type, options, e.OccurredAt); err != nil {
		return fmt.Errorf("apply %s: %w", e.EventName, err)
	}
	return nil
}
