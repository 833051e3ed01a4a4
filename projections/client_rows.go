package projections

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// clientRow is an rm_clients row folded in memory. A client registered in
// a batch has no row yet: its events in the batch are folded into one row,
// written once, instead of an INSERT followed by an UPDATE per event (an
// import puts each new client on its lists; a rebuild meets most clients'
// whole lives in one batch). apply mirrors, event by event, the statements
// Apply runs for clients that already have a row; the projector tests
// compare the two.
type clientRow struct {
	tenant, id   uuid.UUID
	version      int
	position     int64
	status       string
	fields       []string // by domain.ClientFields index
	refs         []domain.ExternalRef
	sources      []string
	custom       map[string]string
	contacts     []map[string]string
	lists        []uuid.UUID
	createdAt    time.Time
	updatedAt    time.Time
	deletedAt    *time.Time
	imports      []uuid.UUID
	origin       string
	removedAt    []string // sources that no longer have the client
	accessStatus string
}

// clientFieldIndexes maps each domain.ClientFields entry to its index.
var clientFieldIndexes = func() map[domain.Field]int {
	m := map[domain.Field]int{}
	for i, f := range domain.ClientFields {
		m[f] = i
	}
	return m
}()

// kindIndex is where fields holds the kind, which an erasure keeps.
var kindIndex = clientFieldIndexes[domain.FieldKind]

// registeredRow is a client's row as its registration makes it.
func registeredRow(e domain.RecordedEvent, ev domain.ClientRegistered) *clientRow {
	r := &clientRow{tenant: e.TenantID, id: e.StreamID, status: StatusActive, createdAt: e.OccurredAt,
		refs: slices.Clone(ev.ExternalRefs), custom: maps.Clone(ev.CustomFields), origin: originOf(e, ev),
		accessStatus: domain.AccessNotInvited, fields: make([]string, len(domain.ClientFields))}
	for f, v := range ev.Details {
		if i, ok := clientFieldIndexes[f]; ok {
			r.fields[i] = v
		}
	}
	if r.fields[kindIndex] == "" {
		r.fields[kindIndex] = domain.KindPerson // an erased registration still needs a kind for the row
	}
	for _, ref := range r.refs {
		r.sources = append(r.sources, ref.Source)
	}
	if r.custom == nil {
		r.custom = map[string]string{}
	}
	r.linkImport(e.ImportID)
	r.touch(e)
	return r
}

// apply folds one later event of the client into the row, as the UPDATE
// Apply would run for it.
func (r *clientRow) apply(e domain.RecordedEvent) {
	r.linkImport(e.ImportID) // queueImportLinks
	switch ev := e.Event.(type) {
	case domain.ClientDetailsChanged:
		for f, v := range ev.Changes {
			if i, ok := clientFieldIndexes[f]; ok {
				r.fields[i] = v
			}
		}
		applyChanges(r.custom, ev.CustomFields)
	case domain.ClientDeleted:
		at := e.OccurredAt
		r.status, r.deletedAt = StatusDeleted, &at
	case domain.ClientRestored:
		r.status, r.deletedAt = StatusActive, nil
	case domain.ClientErased:
		for i := range r.fields {
			if i != kindIndex {
				r.fields[i] = ""
			}
		}
		r.status, r.custom, r.contacts, r.lists = StatusErased, map[string]string{}, nil, nil
	case domain.ContactPersonAdded:
		contact := maps.Clone(ev.Details)
		if contact == nil {
			contact = map[string]string{}
		}
		contact["id"] = ev.ContactID.String()
		r.contacts = append(r.contacts, contact)
	case domain.ContactPersonChanged:
		for _, c := range r.contacts {
			if c["id"] == ev.ContactID.String() {
				applyChanges(c, ev.Changes)
			}
		}
	case domain.ContactPersonRemoved:
		r.contacts = slices.DeleteFunc(r.contacts, func(c map[string]string) bool { return c["id"] == ev.ContactID.String() })
	case domain.ClientAddedToList:
		r.lists = appendAbsent(r.lists, ev.ListID)
	case domain.ClientRemovedFromList:
		r.lists = slices.DeleteFunc(r.lists, func(id uuid.UUID) bool { return id == ev.ListID })
	case domain.ClientExternalRefAdded:
		r.refs = append(r.refs, ev.Ref)
		r.sources = appendAbsent(r.sources, ev.Ref.Source)
	case domain.ClientRemovedAtSource:
		r.removedAt = appendAbsent(r.removedAt, ev.Source)
	case domain.ClientRestoredAtSource:
		r.removedAt = slices.DeleteFunc(r.removedAt, func(s string) bool { return s == ev.Source })
	case domain.ClientDetachedFromSource:
		r.refs = slices.DeleteFunc(r.refs, func(ref domain.ExternalRef) bool { return ref.Source == ev.Source })
		r.sources = slices.DeleteFunc(r.sources, func(s string) bool { return s == ev.Source })
		r.removedAt = slices.DeleteFunc(r.removedAt, func(s string) bool { return s == ev.Source })
	case domain.InvitationSent, domain.AppUserRegistered, domain.AppAccessValidated, domain.AppAccessRevoked, domain.AppRegistrationRejected:
		r.accessStatus = domain.NextAccessStatus(r.accessStatus, ev)
	default:
		return // Apply has no statement for it: the row's version stays
	}
	r.touch(e)
}

func (r *clientRow) touch(e domain.RecordedEvent) {
	r.version, r.position, r.updatedAt = e.StreamVersion, e.Position, e.OccurredAt
}

func (r *clientRow) linkImport(id uuid.UUID) {
	if id != uuid.Nil {
		r.imports = appendAbsent(r.imports, id)
	}
}

func appendAbsent[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// applyChanges sets new values and drops cleared ("") ones, as the SQL's
// (object || set) - cleared does.
func applyChanges(into, changes map[string]string) {
	for k, v := range changes {
		if v == "" {
			delete(into, k)
		} else {
			into[k] = v
		}
	}
}

// foldNewClients takes out of a batch the events of the clients it
// registers and folds each such client into a row. The other events, of
// clients that have a row already, are returned in log order.
func foldNewClients(events []domain.RecordedEvent) (rows []*clientRow, rest []domain.RecordedEvent) {
	type key struct{ tenant, id uuid.UUID }
	folded := map[key]*clientRow{}
	for _, e := range events {
		if e.StreamType != domain.StreamClient {
			continue
		}
		k := key{e.TenantID, e.StreamID}
		if r, ok := folded[k]; ok {
			r.apply(e)
			continue
		}
		// A registration is its stream's first event: the client's events
		// before it in the batch, if any, cannot exist.
		if ev, ok := e.Event.(domain.ClientRegistered); ok {
			r := registeredRow(e, ev)
			folded[k] = r
			rows = append(rows, r)
			continue
		}
		rest = append(rest, e)
	}
	return rows, rest
}

// columns of rm_clients a folded row fills, in the order values gives them.
var clientRowColumns = func() []string {
	cols := []string{"tenant_id", "id", "version", "position", "status"}
	for _, f := range domain.ClientFields {
		cols = append(cols, string(f))
	}
	return append(cols, "external_refs", "sources", "custom_fields", "contact_persons", "list_ids",
		"created_at", "updated_at", "deleted_at", "import_ids", "origin", "removed_at_source", "access_status")
}()

// jsonText renders refs, custom fields and contacts as the JSON their
// columns store (never null).
func (r *clientRow) jsonText() (refs, custom, contacts string) {
	// Most clients have no references, custom fields or contacts.
	refs, custom, contacts = "[]", "{}", "[]"
	// Strings in structs, maps and slices: marshalling cannot fail.
	if len(r.refs) > 0 {
		raw, _ := json.Marshal(r.refs)
		refs = string(raw)
	}
	if len(r.custom) > 0 {
		raw, _ := json.Marshal(r.custom)
		custom = string(raw)
	}
	if len(r.contacts) > 0 {
		raw, _ := json.Marshal(r.contacts)
		contacts = string(raw)
	}
	return refs, custom, contacts
}

// writeCopy writes the row in clientRowColumns' order.
func (r *clientRow) writeCopy(c *binaryCopy) {
	refs, custom, contacts := r.jsonText()
	c.row(len(clientRowColumns))
	c.uuid(r.tenant)
	c.uuid(r.id)
	c.int4(int32(r.version))
	c.int8(r.position)
	c.text(r.status)
	for _, f := range r.fields {
		c.text(f)
	}
	c.jsonb(refs)
	c.textArray(r.sources)
	c.jsonb(custom)
	c.jsonb(contacts)
	uuidArray(c, r.lists)
	c.timestamptz(r.createdAt)
	c.timestamptz(r.updatedAt)
	if r.deletedAt != nil {
		c.timestamptz(*r.deletedAt)
	} else {
		c.null()
	}
	uuidArray(c, r.imports)
	c.text(r.origin)
	c.textArray(r.removedAt)
	c.text(r.accessStatus)
}

// arrayLiteral writes values as a PostgreSQL array literal, each element
// quoted.
func arrayLiteral[T any](values []T, text func(T) string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		arrayEscaper.WriteString(&b, text(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
