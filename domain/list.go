package domain

import (
	"strings"

	"github.com/google/uuid"
)

// List groups clients, e.g. for a newsletter or a campaign.
type List struct {
	id      uuid.UUID
	version int
	name    string
	deleted bool
	// took are the clients the list's deletion took with it; restored
	// tells that a deletion was already undone (it can be, once).
	took     []uuid.UUID
	restored bool
	pending  []Event
}

// NewList returns an empty list to fold a stream into.
func NewList(id uuid.UUID) *List { return &List{id: id} }

// CreateList validates the name and records ListCreated.
func CreateList(id uuid.UUID, name string) (*List, error) {
	n, err := normalizeListName(name)
	if err != nil {
		return nil, err
	}
	l := NewList(id)
	l.record(ListCreated{Name: n})
	return l, nil
}

// Rename gives the list a new name; the same name again records nothing.
func (l *List) Rename(name string) error {
	if l.deleted {
		return ErrListDeleted
	}
	n, err := normalizeListName(name)
	if err != nil {
		return err
	}
	if n != l.name {
		l.record(ListRenamed{Name: n})
	}
	return nil
}

// Delete removes the list; its memberships stop counting.
func (l *List) Delete() error {
	if l.deleted {
		return ErrListDeleted
	}
	l.record(ListDeleted{})
	return nil
}

func (l *List) ID() uuid.UUID          { return l.id }
func (l *List) StreamID() uuid.UUID    { return l.id }
func (l *List) StreamType() string     { return StreamList }
func (l *List) Version() int           { return l.version }
func (l *List) Name() string           { return l.name }
func (l *List) Deleted() bool          { return l.deleted }
func (l *List) PendingEvents() []Event { return l.pending }

// UniqueKeys: list names are unique per tenant, case-insensitively.
func (l *List) UniqueKeys() []UniqueKey {
	if l.deleted || l.name == "" {
		return nil
	}
	return []UniqueKey{{Kind: "list_name", Value: strings.ToLower(l.name), Field: "name"}}
}

// Apply folds a recorded event into the list.
func (l *List) Apply(e RecordedEvent) {
	l.when(e.Event)
	l.version = e.StreamVersion
}

func (l *List) record(e Event) {
	l.when(e)
	l.pending = append(l.pending, e)
}

func (l *List) when(e Event) {
	switch e := e.(type) {
	case ListCreated:
		l.name = e.Name
	case ListRenamed:
		l.name = e.Name
	case ListDeleted:
		l.deleted = true
		l.took = e.Clients
	case ListRestored:
		l.deleted, l.restored, l.took = false, true, nil
		l.name = e.Name
	}
}

func normalizeListName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if err := checkText("name", n); err != nil {
		return "", ValidationErrors{*err}
	}
	if n == "" {
		return "", ValidationErrors{{Field: "name", Code: "required", Message: "a list needs a name"}}
	}
	return n, nil
}
