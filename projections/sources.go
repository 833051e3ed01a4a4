package projections

import (
	"encoding/json"

	"github.com/clientreg/clientreg/domain"
)

// queueSourceEvent applies the client events of syncs and of the client's
// app to rm_clients.
func queueSourceEvent(stmts *statements, e domain.RecordedEvent) {
	switch ev := e.Event.(type) {
	case domain.ClientExternalRefAdded:
		ref, _ := json.Marshal([]domain.ExternalRef{ev.Ref}) // two strings: cannot fail
		updateClient(stmts, e, `external_refs = external_refs || $6::jsonb,
			sources = CASE WHEN $7 = ANY(sources) THEN sources ELSE array_append(sources, $7) END`, string(ref), ev.Ref.Source)
	case domain.ClientRemovedAtSource:
		updateClient(stmts, e, `removed_at_source = CASE WHEN $6 = ANY(removed_at_source) THEN removed_at_source
			ELSE array_append(removed_at_source, $6) END`, ev.Source)
	case domain.ClientRestoredAtSource:
		updateClient(stmts, e, `removed_at_source = array_remove(removed_at_source, $6)`, ev.Source)
	case domain.ClientDetachedFromSource:
		updateClient(stmts, e, `external_refs = coalesce((SELECT jsonb_agg(r ORDER BY n)
				FROM jsonb_array_elements(external_refs) WITH ORDINALITY AS x(r, n) WHERE r->>'source' <> $6), '[]'),
			sources = array_remove(sources, $6), removed_at_source = array_remove(removed_at_source, $6)`, ev.Source)
	// The statuses follow domain.NextAccessStatus.
	case domain.InvitationSent:
		updateClient(stmts, e, `access_status = CASE WHEN access_status IN ('not_invited', 'revoked') THEN 'invited' ELSE access_status END`)
	case domain.AppUserRegistered:
		updateClient(stmts, e, `access_status = CASE WHEN access_status = 'invited' THEN 'registered'
			WHEN access_status IN ('registered', 'validated') THEN access_status ELSE 'pending_validation' END`)
	case domain.AppAccessValidated:
		updateClient(stmts, e, `access_status = 'validated'`)
	case domain.AppAccessRevoked:
		updateClient(stmts, e, `access_status = 'revoked'`)
	case domain.AppRegistrationRejected:
		updateClient(stmts, e, `access_status = 'not_invited'`)
	}
}
