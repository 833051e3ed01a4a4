package domain

import (
	"errors"
	"slices"

	"github.com/google/uuid"
)

// A newsletter's base is a list: replacing the base deletes the list with
// the clients that were only there for it. A client the office cares about
// for another reason stays, and the answer says why.

// Why a list's deletion (or its undo, beside KeptChangedSince) left a
// client alone.
const (
	KeptOnOtherList    = "kept_on_other_list"
	KeptEditedSince    = "kept_edited_since_joined"
	KeptLinkedToSource = "kept_linked_to_source"
	KeptEmailTaken     = "kept_email_taken"
)

var (
	// ErrListNotDeleted: only a deleted list can be restored.
	ErrListNotDeleted = errors.New("list is not deleted")
	// ErrListRestoredBefore: a list's deletion can be undone once.
	ErrListRestoredBefore = errors.New("list was already restored once")
)

// listHistory is what a client's stream says about its lists beyond its
// memberships: when it joined each, when a person last edited it, and
// whether its last event is a list's deletion of it.
type listHistory struct {
	joined     map[uuid.UUID]int // list -> version of the stream when the client joined it
	handEdited int               // version of the last change made by a person
	deletedBy  uuid.UUID         // the list whose deletion is the stream's last event
}

func (h *listHistory) apply(e RecordedEvent) {
	h.deletedBy = uuid.Nil
	switch ev := e.Event.(type) {
	case ClientAddedToList:
		if h.joined == nil {
			h.joined = map[uuid.UUID]int{}
		}
		h.joined[ev.ListID] = e.StreamVersion
	case ClientDetailsChanged, ContactPersonAdded, ContactPersonChanged, ContactPersonRemoved:
		if e.ImportID == uuid.Nil && e.SyncRunID == uuid.Nil {
			h.handEdited = e.StreamVersion
		}
	case ClientDeleted:
		if ev.Cause == DeletedWithList && ev.ListID != nil {
			h.deletedBy = *ev.ListID
		}
	}
}

// DeleteWithList deletes the client because the list it is on is deleted
// with its clients, unless the office has another reason to keep it: it is
// on another live list (onLiveList tells), a person edited it since it
// joined the list, or a connected source holds it; kept says which. A
// client not (or no longer) on the list, deleted or erased, is left out:
// neither deleted nor kept.
func (c *Client) DeleteWithList(listID uuid.UUID, onLiveList func(uuid.UUID) bool) (deleted bool, kept string) {
	switch {
	case c.deleted || c.erased || !slices.Contains(c.lists, listID):
		return false, ""
	case slices.ContainsFunc(c.lists, func(id uuid.UUID) bool { return id != listID && onLiveList(id) }):
		return false, KeptOnOtherList
	case c.history.handEdited > c.history.joined[listID]:
		return false, KeptEditedSince
	case c.linkedToConnection():
		return false, KeptLinkedToSource
	}
	id := listID
	c.record(ClientDeleted{Cause: DeletedWithList, ListID: &id})
	return true, ""
}

// RestoreWithList brings back a client a list's deletion took, unless
// anything happened to it since: it answers KeptChangedSince then.
func (c *Client) RestoreWithList(listID uuid.UUID) (kept string) {
	if c.erased || !c.deleted || c.history.deletedBy != listID {
		return KeptChangedSince
	}
	c.record(ClientRestored{})
	return ""
}

// linkedToConnection tells whether a connected system (AdminPulse, Admin
// IS | Consult, an ERP) brought or matched the client.
func (c *Client) linkedToConnection() bool {
	return slices.ContainsFunc(c.refs, func(r ExternalRef) bool {
		_, err := ParseProvider(r.Source)
		return err == nil
	})
}

// DeleteWithClients deletes the list and names the clients its deletion
// took with it, so that restoring the list can bring them back.
func (l *List) DeleteWithClients(took []uuid.UUID) error {
	if l.deleted {
		return ErrListDeleted
	}
	l.record(ListDeleted{Clients: took})
	return nil
}

// Restore undoes the list's deletion, once: the list comes back under its
// name (which must be free), with its memberships. It answers the clients
// the deletion took with it, to bring back too.
func (l *List) Restore() (took []uuid.UUID, err error) {
	switch {
	case !l.deleted:
		return nil, ErrListNotDeleted
	case l.restored:
		return nil, ErrListRestoredBefore
	}
	took = l.took
	l.record(ListRestored{Name: l.name})
	return took, nil
}
