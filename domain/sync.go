package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// SourceRecord is one client as a source system has it, already mapped to
// client fields (not yet validated).
type SourceRecord struct {
	ExternalID string
	Details    map[Field]string
	// Deleted: the source says the record is gone (a change feed DELETE,
	// an ERP DELETE).
	Deleted bool
}

// SourceExternalID checks the id a source gives one of its records.
func SourceExternalID(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if err := checkText("external_id", v); err != nil {
		return "", ValidationErrors{*err}
	}
	return v, nil
}

// CheckPushedText refuses what an ERP pushes when a text breaks the text
// rule (control characters, invalid bytes, too long): unlike a value of
// the wrong form, which SourceDetails leaves out, such a text is a fault of
// the sender, which can send it again.
func CheckPushedText(raw map[Field]string) error {
	var errs ValidationErrors
	for _, f := range ClientFields {
		if v, ok := raw[f]; ok {
			if fe := checkText(string(f), strings.TrimSpace(v)); fe != nil {
				errs = append(errs, *fe)
			}
		}
	}
	return errs.orNil()
}

// SourceDetails validates what a source says about a client. A value the
// registry cannot take (a phone with letters, an unknown language) is left
// out and named, the rest is kept: a source is not a file the office can
// fix and upload again.
func SourceDetails(raw map[Field]string) (map[Field]string, []string) {
	out := make(map[Field]string, len(raw))
	var dropped []string
	for _, f := range ClientFields {
		v, ok := raw[f]
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		n, err := normalizeField(f, v)
		if err != nil {
			dropped = append(dropped, string(f))
			continue
		}
		out[f] = n
	}
	if out[FieldKind] == "" {
		out[FieldKind] = KindPerson
	}
	return out, dropped
}

// Fingerprint is a stable digest of a source record's mapped details: equal
// fingerprints mean the source did not change the record.
func Fingerprint(details map[Field]string) string {
	h := sha256.New()
	for _, f := range ClientFields {
		h.Write([]byte(f))
		h.Write([]byte{0})
		h.Write([]byte(details[f]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ClientExternalRefAdded: an existing client was linked to its record in a
// source system (first contact matched it instead of creating a duplicate).
type ClientExternalRefAdded struct {
	Ref ExternalRef `json:"ref"`
}

// ClientRemovedAtSource: the source no longer has the client. The client
// stays in the registry, flagged.
type ClientRemovedAtSource struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

// ClientRestoredAtSource: the source has the client again.
type ClientRestoredAtSource struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

func (ClientExternalRefAdded) EventName() string { return "ClientExternalRefAdded" }
func (ClientRemovedAtSource) EventName() string  { return "ClientRemovedAtSource" }
func (ClientRestoredAtSource) EventName() string { return "ClientRestoredAtSource" }

func (ClientExternalRefAdded) SchemaVersion() int { return 1 }
func (ClientRemovedAtSource) SchemaVersion() int  { return 1 }
func (ClientRestoredAtSource) SchemaVersion() int { return 1 }

func init() {
	registerEvent(func() Event { return &ClientExternalRefAdded{} })
	registerEvent(func() Event { return &ClientRemovedAtSource{} })
	registerEvent(func() Event { return &ClientRestoredAtSource{} })
}

// sourceState is what syncs and the client's app add to a client.
type sourceState struct {
	removedAt map[string]bool // sources that no longer have the client
	access    string          // app access status
	appEmail  string
	app       AppAccessView   // when and from what (client_access.go)
	detached  map[string]bool // sources an admin detached the client from (client_ownership.go)
}

// RegisterFromSource creates a client a source brought, linked to its
// record there. details come from SourceDetails.
func RegisterFromSource(id uuid.UUID, ref ExternalRef, details map[Field]string) (*Client, error) {
	refs, errs := normalizeRefs([]ExternalRef{ref})
	if err := append(errs, requiredFields(details)...).orNil(); err != nil {
		return nil, err
	}
	d := make(map[Field]string, len(details))
	for f, v := range details {
		if v != "" {
			d[f] = v
		}
	}
	c := NewClient(id)
	c.record(ClientRegistered{Details: d, ExternalRefs: refs})
	return c, nil
}

// SyncFromSource brings a client in line with its source record: it links
// the client to the record if it is not yet, takes back a removal at
// source, and records the source's values that differ. An empty value at the
// source leaves the registry's value alone (fields only the registry knows
// stay). A client deleted by hand is left alone: the office decided.
func (c *Client) SyncFromSource(ref ExternalRef, details map[Field]string) error {
	if c.deleted || c.detachedFrom(ref.Source) {
		return nil
	}
	refs, errs := normalizeRefs([]ExternalRef{ref})
	if err := errs.orNil(); err != nil {
		return err
	}
	ref = refs[0]
	if i := slices.IndexFunc(c.refs, func(r ExternalRef) bool { return r.Source == ref.Source }); i < 0 {
		c.record(ClientExternalRefAdded{Ref: ref})
	} else if c.refs[i].ExternalID != ref.ExternalID {
		return &DuplicateError{Field: "external_refs", OwnerID: c.id.String()}
	}
	changes := map[Field]string{}
	merged := make(map[Field]string, len(c.details))
	for f, v := range c.details {
		merged[f] = v
	}
	for f, v := range details {
		if v != "" && c.details[f] != v {
			changes[f] = v
			merged[f] = v
		}
	}
	if err := requiredFields(merged).orNil(); err != nil {
		return err
	}
	if c.src.removedAt[ref.Source] {
		c.record(ClientRestoredAtSource{Source: ref.Source, ExternalID: ref.ExternalID})
	}
	if len(changes) > 0 {
		c.record(ClientDetailsChanged{Changes: changes})
	}
	return nil
}

// RemoveAtSource flags the client as gone from the source; nothing else
// changes. Already flagged (or deleted here) records nothing.
func (c *Client) RemoveAtSource(source, externalID string) {
	if c.deleted || c.src.removedAt[source] || c.detachedFrom(source) {
		return
	}
	c.record(ClientRemovedAtSource{Source: source, ExternalID: externalID})
}

// RemovedAtSource tells whether the source no longer has the client.
func (c *Client) RemovedAtSource(source string) bool { return c.src.removedAt[source] }

// whenSource folds the events of syncs and app access.
func (c *Client) whenSource(e Event) {
	switch e := e.(type) {
	case ClientExternalRefAdded:
		c.refs = append(c.refs, e.Ref)
	case ClientRemovedAtSource:
		if c.src.removedAt == nil {
			c.src.removedAt = map[string]bool{}
		}
		c.src.removedAt[e.Source] = true
	case ClientRestoredAtSource:
		delete(c.src.removedAt, e.Source)
	case ClientDetachedFromSource:
		c.whenDetached(e)
	case AppUserRegistered:
		c.src.appEmail = e.Email
		c.src.access = NextAccessStatus(c.AccessStatus(), e)
	case InvitationSent, AppAccessValidated, AppAccessRevoked, AppRegistrationRejected:
		c.src.access = NextAccessStatus(c.AccessStatus(), e)
	}
}
