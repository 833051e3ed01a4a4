package domain

import (
	"slices"

	"github.com/google/uuid"
)

// UndoCausationPrefix starts the causation id of the events an undo
// appends (the import id follows), which tells them from the import's own.
const UndoCausationPrefix = "undo:"

// Reasons undo gives for what it keeps.
const (
	KeptChangedSince      = "kept_changed_since"       // a created client was changed or linked since
	KeptFieldChangedSince = "kept_field_changed_since" // some fields were changed again since
	KeptDeletedSince      = "kept_deleted_since"       // the client was deleted since
)

// UndoImport compensates what one import did to this client, whose whole
// stream is folded into c: a client the import created is deleted unless
// anything else touched it since; fields it changed go back to their
// earlier values unless changed again since; lists and contacts it added are
// removed. It returns what was kept and why (nil when nothing was), and
// whether the client was deleted.
func (c *Client) UndoImport(importID uuid.UUID, stream []RecordedEvent, fields *CustomFieldSet) (deleted bool, kept *KeptClient, err error) {
	first := slices.IndexFunc(stream, func(e RecordedEvent) bool { return e.ImportID == importID })
	if first < 0 {
		return false, nil, nil
	}
	last := first
	for i := first; i < len(stream) && stream[i].ImportID == importID; i++ {
		last = i
	}
	ours, after := stream[first:last+1], stream[last+1:]
	keep := func(reason string, fields []string) *KeptClient {
		return &KeptClient{ClientID: c.id, Row: ours[0].ImportRow, Reason: reason, Fields: fields}
	}

	if _, created := ours[0].Event.(ClientRegistered); created {
		if len(after) > 0 {
			return false, keep(KeptChangedSince, nil), nil
		}
		c.record(ClientDeleted{Cause: DeletedByUndo})
		return true, nil, nil
	}
	if c.deleted {
		return false, keep(KeptDeletedSince, nil), nil
	}

	before := NewClient(c.id)
	for _, e := range stream[:first] {
		before.Apply(e)
	}
	changedSince, customChangedSince := map[Field]bool{}, map[string]bool{}
	for _, e := range after {
		if ch, ok := e.Event.(ClientDetailsChanged); ok {
			for f := range ch.Changes {
				changedSince[f] = true
			}
			for name := range ch.CustomFields {
				customChangedSince[name] = true
			}
		}
	}
	restore := ClientInput{Details: map[Field]string{}, CustomFields: map[string]string{}}
	var keptFields []string
	for _, e := range ours {
		switch ev := e.Event.(type) {
		case ClientDetailsChanged:
			for f := range ev.Changes {
				if changedSince[f] {
					keptFields = append(keptFields, string(f))
				} else {
					restore.Details[f] = before.details[f]
				}
			}
			for name := range ev.CustomFields {
				if customChangedSince[name] {
					keptFields = append(keptFields, "custom:"+name)
				} else {
					restore.CustomFields[name] = before.custom[name]
				}
			}
		case ClientAddedToList:
			if !slices.Contains(before.lists, ev.ListID) {
				if err := c.RemoveFromList(ev.ListID); err != nil {
					return false, nil, err
				}
			}
		case ClientRemovedFromList: // a list_mode "replace" took it off: back on, unless it moved since
			if !slices.Contains(c.lists, ev.ListID) && !touchesList(after, ev.ListID) {
				c.record(ClientAddedToList{ListID: ev.ListID})
			}
		case ContactPersonAdded:
			if c.contactIndex(ev.ContactID) >= 0 && !touchesContact(after, ev.ContactID) {
				if err := c.RemoveContactPerson(ev.ContactID); err != nil {
					return false, nil, err
				}
			}
		}
	}
	if err := c.ChangeDetails(restore, fields); err != nil {
		return false, nil, err
	}
	if len(keptFields) > 0 {
		slices.Sort(keptFields)
		return false, keep(KeptFieldChangedSince, slices.Compact(keptFields)), nil
	}
	return false, nil, nil
}

func touchesContact(events []RecordedEvent, contactID uuid.UUID) bool {
	return slices.ContainsFunc(events, func(e RecordedEvent) bool {
		ch, ok := e.Event.(ContactPersonChanged)
		return ok && ch.ContactID == contactID
	})
}

func touchesList(events []RecordedEvent, listID uuid.UUID) bool {
	return slices.ContainsFunc(events, func(e RecordedEvent) bool {
		switch ev := e.Event.(type) {
		case ClientAddedToList:
			return ev.ListID == listID
		case ClientRemovedFromList:
			return ev.ListID == listID
		}
		return false
	})
}
