package projections

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Clients maintains rm_clients: one row per client with its current state.
type Clients struct{}

func (Clients) Name() string { return "clients" }

func (Clients) Apply(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent) error {
	if e.StreamType != domain.StreamClient {
		return nil
	}
	switch ev := e.Event.(type) {
	case domain.ClientRegistered:
		return insertClient(ctx, tx, e, ev)
	case domain.ClientDetailsChanged:
		return changeClient(ctx, tx, e, ev)
	case domain.ClientDeleted:
		return updateClient(ctx, tx, e, `status = 'deleted', deleted_at = $5`)
	case domain.ClientRestored:
		return updateClient(ctx, tx, e, `status = 'active', deleted_at = NULL`)
	case domain.ContactPersonAdded:
		contact := maps.Clone(ev.Details)
		if contact == nil {
			contact = map[string]string{}
		}
		contact["id"] = ev.ContactID.String()
		return updateClient(ctx, tx, e, `contact_persons = contact_persons || jsonb_build_array($6::jsonb)`, contact)
	case domain.ContactPersonChanged:
		set, cleared := splitChanges(ev.Changes)
		return updateClient(ctx, tx, e, `contact_persons = (
			SELECT coalesce(jsonb_agg(CASE WHEN c->>'id' = $6 THEN (c || $7::jsonb) - $8::text[] ELSE c END ORDER BY n), '[]')
			FROM jsonb_array_elements(contact_persons) WITH ORDINALITY AS x(c, n))`,
			ev.ContactID.String(), set, cleared)
	case domain.ContactPersonRemoved:
		return updateClient(ctx, tx, e, `contact_persons = (
			SELECT coalesce(jsonb_agg(c ORDER BY n), '[]')
			FROM jsonb_array_elements(contact_persons) WITH ORDINALITY AS x(c, n) WHERE c->>'id' <> $6)`,
			ev.ContactID.String())
	case domain.ClientAddedToList:
		return updateClient(ctx, tx, e, `list_ids = CASE WHEN $6 = ANY(list_ids) THEN list_ids ELSE array_append(list_ids, $6) END`, ev.ListID)
	case domain.ClientRemovedFromList:
		return updateClient(ctx, tx, e, `list_ids = array_remove(list_ids, $6)`, ev.ListID)
	}
	return nil
}

func insertClient(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent, ev domain.ClientRegistered) error {
	cols := []string{"tenant_id", "id", "version", "position", "status", "created_at", "updated_at", "external_refs", "sources", "custom_fields"}
	refs := ev.ExternalRefs
	if refs == nil {
		refs = []domain.ExternalRef{}
	}
	sources := make([]string, 0, len(refs))
	for _, r := range refs {
		sources = append(sources, r.Source)
	}
	custom := ev.CustomFields
	if custom == nil {
		custom = map[string]string{}
	}
	args := []any{e.TenantID, e.StreamID, e.StreamVersion, e.Position, "active", e.OccurredAt, e.OccurredAt, refs, sources, custom}
	if ev.Details[domain.FieldKind] == "" {
		// An erased registration still needs a kind for the row.
		cols = append(cols, "kind")
		args = append(args, domain.KindPerson)
	}
	for _, f := range domain.ClientFields {
		if v, ok := ev.Details[f]; ok {
			cols = append(cols, string(f))
			args = append(args, v)
		}
	}
	q := "INSERT INTO rm_clients (" + join(cols) + ") VALUES (" + placeholders(1, len(cols)) + ") ON CONFLICT (tenant_id, id) DO NOTHING"
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("insert client %s: %w", e.StreamID, err)
	}
	return nil
}

func changeClient(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent, ev domain.ClientDetailsChanged) error {
	var set string
	var args []any
	n := 6 // $1..$5 are taken by updateClient
	for _, f := range domain.ClientFields {
		if v, ok := ev.Changes[f]; ok {
			set += fmt.Sprintf("%s = $%d, ", f, n)
			args = append(args, v)
			n++
		}
	}
	customSet, customCleared := splitChanges(ev.CustomFields)
	set += fmt.Sprintf("custom_fields = (custom_fields || $%d::jsonb) - $%d::text[]", n, n+1)
	args = append(args, customSet, customCleared)
	return updateClient(ctx, tx, e, set, args...)
}

// updateClient applies a SET clause to the client's row, only if the row is
// behind this event, which keeps a replayed event from applying twice.
// $1..$5 are tenant, client, version, position and time; args follow.
func updateClient(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent, set string, args ...any) error {
	q := `UPDATE rm_clients SET ` + set + `, version = $3, position = $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND version < $3`
	all := append([]any{e.TenantID, e.StreamID, e.StreamVersion, e.Position, e.OccurredAt}, args...)
	if _, err := tx.Exec(ctx, q, all...); err != nil {
		return fmt.Errorf("apply %s to client %s: %w", e.EventName, e.StreamID, err)
	}
	return nil
}

// splitChanges separates new values from cleared keys ("" means cleared).
func splitChanges[K ~string](changes map[K]string) (map[string]string, []string) {
	set := map[string]string{}
	cleared := []string{}
	for k, v := range changes {
		if v == "" {
			cleared = append(cleared, string(k))
		} else {
			set[string(k)] = v
		}
	}
	slices.Sort(cleared)
	return set, cleared
}

func join(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

func placeholders(from, n int) string {
	out := ""
	for i := range n {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("$%d", from+i)
	}
	return out
}
