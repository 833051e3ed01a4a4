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

// Client statuses as the read model and the API show them.
const (
	StatusActive  = "active"
	StatusDeleted = "deleted"
	StatusErased  = "erased"
)

// clientFold is a client's state folded from its stream, event by event,
// with what the read model adds (status, dates, version, position).
type clientFold struct {
	client    *domain.Client
	view      ClientView
	deletedAt *time.Time
}

func newClientFold(id uuid.UUID) *clientFold {
	return &clientFold{client: domain.NewClient(id)}
}

func (f *clientFold) apply(e domain.RecordedEvent) {
	f.client.Apply(e)
	if f.view.CreatedAt.IsZero() {
		f.view.CreatedAt = e.OccurredAt
	}
	f.view.UpdatedAt = e.OccurredAt
	f.view.Version = e.StreamVersion
	f.view.Position = e.Position
	switch ev := e.Event.(type) {
	case domain.ClientDeleted:
		at := e.OccurredAt
		f.deletedAt = &at
	case domain.ClientRestored:
		f.deletedAt = nil
	case domain.ClientRemovedAtSource:
		f.view.RemovedAtSource = appendAbsent(f.view.RemovedAtSource, ev.Source)
	case domain.ClientRestoredAtSource:
		f.view.RemovedAtSource = slices.DeleteFunc(f.view.RemovedAtSource, func(s string) bool { return s == ev.Source })
	case domain.ClientDetachedFromSource:
		f.view.RemovedAtSource = slices.DeleteFunc(f.view.RemovedAtSource, func(s string) bool { return s == ev.Source })
	}
}

// current renders the folded state exactly as the clients read model holds
// it (empty collections, never null).
func (f *clientFold) current() ClientView {
	c := f.client
	v := f.view
	v.ID = c.ID()
	v.Status = StatusActive
	switch {
	case c.Erased():
		v.Status = StatusErased
	case c.Deleted():
		v.Status = StatusDeleted
	}
	v.DeletedAt = f.deletedAt
	d := c.Details()
	v.Kind = d[domain.FieldKind]
	if v.Kind == "" {
		v.Kind = domain.KindPerson // an erased registration still has a kind
	}
	v.FirstName, v.LastName, v.CompanyName = d[domain.FieldFirstName], d[domain.FieldLastName], d[domain.FieldCompanyName]
	v.DisplayName, v.Email, v.Language = d[domain.FieldDisplayName], d[domain.FieldEmail], d[domain.FieldLanguage]
	v.Phone, v.VATNumber = d[domain.FieldPhone], d[domain.FieldVATNumber]
	v.Address = Address{Street: d[domain.FieldStreet], HouseNumber: d[domain.FieldHouseNumber], Box: d[domain.FieldBox],
		PostalCode: d[domain.FieldPostalCode], City: d[domain.FieldCity], Country: d[domain.FieldCountry]}
	v.Notes = d[domain.FieldNotes]
	v.ExternalRefs = c.ExternalRefs()
	if v.ExternalRefs == nil {
		v.ExternalRefs = []domain.ExternalRef{}
	}
	v.CustomFields = c.CustomFields()
	v.ContactPersons = []map[string]string{}
	for _, p := range c.Contacts() {
		contact := maps.Clone(p.Details)
		if contact == nil {
			contact = map[string]string{}
		}
		contact["id"] = p.ID.String()
		v.ContactPersons = append(v.ContactPersons, contact)
	}
	v.Lists = c.Lists()
	if v.Lists == nil {
		v.Lists = []uuid.UUID{}
	}
	v.RemovedAtSource = slices.Clone(v.RemovedAtSource)
	if v.RemovedAtSource == nil {
		v.RemovedAtSource = []string{}
	}
	v.AccessStatus = c.AccessStatus()
	return v
}

// FoldClient folds a client's stream (in version order) into the view the
// clients read model shows; false when the stream is empty. Folding the
// events up to a moment gives the client as it was then.
func FoldClient(events []domain.RecordedEvent) (ClientView, bool) {
	if len(events) == 0 {
		return ClientView{}, false
	}
	f := newClientFold(events[0].StreamID)
	for _, e := range events {
		f.apply(e)
	}
	return f.current(), true
}

// Cause says why an event happened.
type Cause struct {
	// Kind is manual (a person through the API or CLI), import, undo (of an
	// import), sync (a connection's run) or list_deleted (a list's deletion
	// took the client with it).
	Kind        string     `json:"kind"`
	ImportID    *uuid.UUID `json:"import_id,omitempty"`
	ImportLabel string     `json:"import_label,omitempty"`
	Row         int        `json:"row,omitempty"`
	SyncRunID   *uuid.UUID `json:"sync_run_id,omitempty"`
	ListID      *uuid.UUID `json:"list_id,omitempty"`
}

// Cause kinds.
const (
	CauseManual = "manual"
	CauseImport = "import"
	CauseUndo   = "undo"
	CauseSync   = "sync"
	// CauseListDeleted is domain.DeletedWithList as a timeline shows it.
	CauseListDeleted = domain.DeletedWithList
)

// CauseOf tells why an event happened from its envelope.
func CauseOf(env domain.Envelope) Cause {
	switch {
	case env.ImportID != uuid.Nil:
		id := env.ImportID
		kind := CauseImport
		if strings.HasPrefix(env.CausationID, domain.UndoCausationPrefix) {
			kind = CauseUndo
		}
		return Cause{Kind: kind, ImportID: &id, Row: env.ImportRow}
	case env.SyncRunID != uuid.Nil:
		id := env.SyncRunID
		return Cause{Kind: CauseSync, SyncRunID: &id}
	}
	return Cause{Kind: CauseManual}
}

// Change is one field of a client, before and after an event; nil is "no
// value".
type Change struct {
	Field string  `json:"field"`
	Old   *string `json:"old"`
	New   *string `json:"new"`
}

// HistoryEntry is one event in a timeline.
type HistoryEntry struct {
	Position int64     `json:"position"`
	Version  int       `json:"version"`
	At       time.Time `json:"at"`
	Event    string    `json:"event"`
	Actor    string    `json:"actor"`
	Cause    Cause     `json:"cause"`
	// Changes lists what the event changed on a client, field by field.
	Changes []Change `json:"changes,omitempty"`
	// Data is the event itself, for streams other than clients.
	Data json.RawMessage `json:"data,omitempty"`
	// PersonalData is "erased" when the event's personal fields can no
	// longer be read.
	PersonalData string `json:"personal_data,omitempty"`
	// Reason is the note of a deletion or an erasure.
	Reason string `json:"reason,omitempty"`
}

// Erased is what a timeline shows where personal data was erased.
const Erased = "erased"

// ClientHistory is a client's timeline: each event with who, when, why and,
// field by field, what it changed.
func ClientHistory(events []domain.RecordedEvent) []HistoryEntry {
	if len(events) == 0 {
		return nil
	}
	f := newClientFold(events[0].StreamID)
	before := map[string]string{}
	out := make([]HistoryEntry, 0, len(events))
	for _, e := range events {
		f.apply(e)
		after := FlattenClient(f.current())
		entry := entryOf(e)
		entry.Changes = diff(before, after)
		switch ev := e.Event.(type) {
		case domain.ClientDeleted:
			entry.Reason = ev.Reason
			if ev.ListID != nil {
				entry.Cause = Cause{Kind: CauseListDeleted, ListID: ev.ListID}
			}
		case domain.ClientErased:
			entry.Reason = ev.Reason
		}
		if e.PersonalDataErased {
			entry.PersonalData = Erased
		}
		out = append(out, entry)
		before = after
	}
	return out
}

// StreamHistory is the timeline of a stream other than a client's (an
// import, a connection): each event with who, when, why and its content.
func StreamHistory(events []domain.RecordedEvent) ([]HistoryEntry, error) {
	out := make([]HistoryEntry, 0, len(events))
	for _, e := range events {
		entry := entryOf(e)
		data, err := json.Marshal(e.Event)
		if err != nil {
			return nil, err
		}
		entry.Data = data
		out = append(out, entry)
	}
	return out, nil
}

func entryOf(e domain.RecordedEvent) HistoryEntry {
	return HistoryEntry{Position: e.Position, Version: e.StreamVersion, At: e.OccurredAt, Event: e.EventName,
		Actor: e.Actor, Cause: CauseOf(e.Envelope)}
}

// FlattenClient turns a client into field -> value, one entry per thing a person
// would say changed: a detail, a custom field, a contact person's field, a
// list membership, an external reference.
func FlattenClient(v ClientView) map[string]string {
	out := map[string]string{"status": v.Status}
	put := func(k, val string) {
		if val != "" {
			out[k] = val
		}
	}
	put("kind", v.Kind)
	put("first_name", v.FirstName)
	put("last_name", v.LastName)
	put("company_name", v.CompanyName)
	put("display_name", v.DisplayName)
	put("email", v.Email)
	put("language", v.Language)
	put("phone", v.Phone)
	put("vat_number", v.VATNumber)
	put("address.street", v.Address.Street)
	put("address.house_number", v.Address.HouseNumber)
	put("address.box", v.Address.Box)
	put("address.postal_code", v.Address.PostalCode)
	put("address.city", v.Address.City)
	put("address.country", v.Address.Country)
	put("notes", v.Notes)
	for name, val := range v.CustomFields {
		put("custom_fields."+name, val)
	}
	for _, p := range v.ContactPersons {
		for k, val := range p {
			if k != "id" {
				put("contact_persons."+p["id"]+"."+k, val)
			}
		}
	}
	for _, id := range v.Lists {
		out["lists."+id.String()] = "member"
	}
	for _, r := range v.ExternalRefs {
		put("external_refs."+r.Source, r.ExternalID)
	}
	return out
}

func diff(before, after map[string]string) []Change {
	var keys []string
	for k, v := range after {
		if old, ok := before[k]; !ok || old != v {
			keys = append(keys, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]Change, len(keys))
	for i, k := range keys {
		out[i] = Change{Field: k, Old: valueOrNil(before, k), New: valueOrNil(after, k)}
	}
	return out
}

func valueOrNil(m map[string]string, k string) *string {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}
