package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Lists maintains rm_lists: the tenant's live lists. Lists change rarely, so
// each event keeps its own statement; a batch sends them all at once.
type Lists struct{}

func (Lists) Tables() []string { return []string{"rm_lists"} }

func (Lists) Name() string { return "lists" }

func (Lists) StreamTypes() []string { return []string{domain.StreamList} }

func (Lists) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	var stmts statements
	for _, e := range events {
		what := fmt.Sprintf("apply %s to list %s", e.EventName, e.StreamID)
		switch ev := e.Event.(type) {
		case domain.ListCreated:
			stmts.add(what, `INSERT INTO rm_lists (tenant_id, id, version, name, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id, id) DO NOTHING`,
				e.TenantID, e.StreamID, e.StreamVersion, ev.Name, e.OccurredAt)
		case domain.ListRenamed:
			stmts.add(what, `UPDATE rm_lists SET name = $4, version = $3, updated_at = $5
				WHERE tenant_id = $1 AND id = $2 AND version < $3`,
				e.TenantID, e.StreamID, e.StreamVersion, ev.Name, e.OccurredAt)
		case domain.ListDeleted:
			stmts.add(what, `DELETE FROM rm_lists WHERE tenant_id = $1 AND id = $2`, e.TenantID, e.StreamID)
		case domain.ListRestored:
			stmts.add(what, `INSERT INTO rm_lists (tenant_id, id, version, name, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id, id) DO NOTHING`,
				e.TenantID, e.StreamID, e.StreamVersion, ev.Name, e.OccurredAt)
		}
	}
	return stmts.send(ctx, tx)
}

// CustomFields maintains rm_custom_fields: the tenant's field definitions.
type CustomFields struct{}

func (CustomFields) Tables() []string { return []string{"rm_custom_fields"} }

func (CustomFields) Name() string { return "custom_fields" }

func (CustomFields) StreamTypes() []string { return []string{domain.StreamCustomFields} }

func (CustomFields) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	var stmts statements
	for _, e := range events {
		ev, ok := e.Event.(domain.CustomFieldDefined)
		if !ok {
			continue
		}
		options := ev.Options
		if options == nil {
			options = []string{}
		}
		stmts.add(fmt.Sprintf("apply %s", e.EventName), `INSERT INTO rm_custom_fields (tenant_id, name, type, options, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, name) DO NOTHING`,
			e.TenantID, ev.Name, ev.Type, options, e.OccurredAt)
	}
	return stmts.send(ctx, tx)
}
