package domain

import "github.com/google/uuid"

// ClientRegistered: a new client entered the registry.
type ClientRegistered struct {
	Details      map[Field]string  `json:"details"`
	CustomFields map[string]string `json:"custom_fields,omitempty"`
	ExternalRefs []ExternalRef     `json:"external_refs,omitempty"`
}

// ClientDetailsChanged carries only the fields that changed, with their new
// values ("" clears a field). The previous values are in the stream.
type ClientDetailsChanged struct {
	Changes      map[Field]string  `json:"changes,omitempty"`
	CustomFields map[string]string `json:"custom_fields,omitempty"`
}

// ClientDeleted: the client was removed (by hand, or by the undo of the
// import that created it); it can be restored. v2 split v1's reason into
// cause and reason (see upcastClientDeletedV1).
type ClientDeleted struct {
	Cause  string `json:"cause"`            // DeletedByHand, DeletedByUndo or DeletedWithList
	Reason string `json:"reason,omitempty"` // the note a person gave
	// ListID names the list whose deletion took the client with it.
	ListID *uuid.UUID `json:"list_id,omitempty"`
}

// Why a client was deleted.
const (
	DeletedByHand   = "manual"
	DeletedByUndo   = "import_undone"
	DeletedWithList = "list_deleted"
)

// ClientRestored: a deleted client came back.
type ClientRestored struct{}

// ClientErased: the client's personal data was erased (right to be
// forgotten). Its data key is gone, so the personal fields of every earlier
// event read as empty. The reason is an administrative note, kept in clear:
// it must not hold personal data.
type ClientErased struct {
	Reason string `json:"reason"`
}

// ContactPersonAdded: a person to talk to at the client.
type ContactPersonAdded struct {
	ContactID uuid.UUID         `json:"contact_id"`
	Details   map[string]string `json:"details"`
}

// ContactPersonChanged carries the changed contact fields only.
type ContactPersonChanged struct {
	ContactID uuid.UUID         `json:"contact_id"`
	Changes   map[string]string `json:"changes"`
}

// ContactPersonRemoved: the contact no longer belongs to the client.
type ContactPersonRemoved struct {
	ContactID uuid.UUID `json:"contact_id"`
}

// ClientAddedToList: the client joined a list.
type ClientAddedToList struct {
	ListID uuid.UUID `json:"list_id"`
}

// ClientRemovedFromList: the client left a list.
type ClientRemovedFromList struct {
	ListID uuid.UUID `json:"list_id"`
}

func (ClientRegistered) EventName() string      { return "ClientRegistered" }
func (ClientDetailsChanged) EventName() string  { return "ClientDetailsChanged" }
func (ClientDeleted) EventName() string         { return "ClientDeleted" }
func (ClientRestored) EventName() string        { return "ClientRestored" }
func (ClientErased) EventName() string          { return "ClientErased" }
func (ContactPersonAdded) EventName() string    { return "ContactPersonAdded" }
func (ContactPersonChanged) EventName() string  { return "ContactPersonChanged" }
func (ContactPersonRemoved) EventName() string  { return "ContactPersonRemoved" }
func (ClientAddedToList) EventName() string     { return "ClientAddedToList" }
func (ClientRemovedFromList) EventName() string { return "ClientRemovedFromList" }

func (ClientRegistered) SchemaVersion() int      { return 1 }
func (ClientDetailsChanged) SchemaVersion() int  { return 1 }
func (ClientDeleted) SchemaVersion() int         { return 2 }
func (ClientRestored) SchemaVersion() int        { return 1 }
func (ClientErased) SchemaVersion() int          { return 1 }
func (ContactPersonAdded) SchemaVersion() int    { return 1 }
func (ContactPersonChanged) SchemaVersion() int  { return 1 }
func (ContactPersonRemoved) SchemaVersion() int  { return 1 }
func (ClientAddedToList) SchemaVersion() int     { return 1 }
func (ClientRemovedFromList) SchemaVersion() int { return 1 }

// Personal data is sealed per client. A deletion reason is free text typed by
// a person, so it may name someone: sealed too.
func (ClientRegistered) PersonalFields() []string     { return []string{"details", "custom_fields"} }
func (ClientDetailsChanged) PersonalFields() []string { return []string{"changes", "custom_fields"} }
func (ClientDeleted) PersonalFields() []string        { return []string{"reason"} }
func (ContactPersonAdded) PersonalFields() []string   { return []string{"details"} }
func (ContactPersonChanged) PersonalFields() []string { return []string{"changes"} }

func init() {
	registerEvent(func() Event { return &ClientRegistered{} })
	registerEvent(func() Event { return &ClientDetailsChanged{} })
	registerEvent(func() Event { return &ClientDeleted{} })
	registerUpcaster("ClientDeleted", 1, upcastClientDeletedV1)
	registerEvent(func() Event { return &ClientRestored{} })
	registerEvent(func() Event { return &ClientErased{} })
	registerEvent(func() Event { return &ContactPersonAdded{} })
	registerEvent(func() Event { return &ContactPersonChanged{} })
	registerEvent(func() Event { return &ContactPersonRemoved{} })
	registerEvent(func() Event { return &ClientAddedToList{} })
	registerEvent(func() Event { return &ClientRemovedFromList{} })
	registerEvent(func() Event { return &ListCreated{} })
	registerEvent(func() Event { return &ListRenamed{} })
	registerEvent(func() Event { return &ListDeleted{} })
	registerEvent(func() Event { return &ListRestored{} })
	registerEvent(func() Event { return &CustomFieldDefined{} })
}

// ListCreated: a named group of clients.
type ListCreated struct {
	Name string `json:"name"`
}

// ListRenamed: the list has a new name.
type ListRenamed struct {
	Name string `json:"name"`
}

// ListDeleted: the list is gone; its memberships no longer count. Clients
// names those its deletion took with it (delete_clients), which restoring
// the list brings back.
type ListDeleted struct {
	Clients []uuid.UUID `json:"clients,omitempty"`
}

// ListRestored: a deleted list is back, with its name and memberships.
type ListRestored struct {
	Name string `json:"name"`
}

// CustomFieldDefined: the tenant's clients can now carry this field.
type CustomFieldDefined struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Options []string `json:"options,omitempty"`
}

func (ListCreated) EventName() string        { return "ListCreated" }
func (ListRenamed) EventName() string        { return "ListRenamed" }
func (ListDeleted) EventName() string        { return "ListDeleted" }
func (ListRestored) EventName() string       { return "ListRestored" }
func (CustomFieldDefined) EventName() string { return "CustomFieldDefined" }

func (ListCreated) SchemaVersion() int        { return 1 }
func (ListRenamed) SchemaVersion() int        { return 1 }
func (ListDeleted) SchemaVersion() int        { return 1 }
func (ListRestored) SchemaVersion() int       { return 1 }
func (CustomFieldDefined) SchemaVersion() int { return 1 }
