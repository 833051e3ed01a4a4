package domain

import (
	"errors"
	"slices"
)

// A client an ERP pushed belongs to the ERP: the office deletes it there,
// and the deletion arrives here as a removed-at-source flag. Pulled sources
// (AdminPulse, Admin IS | Consult) do not own their clients this way.

var (
	// ErrManagedBySource: the client belongs to a source that deletes it.
	ErrManagedBySource = errors.New("the client is managed by its source")
	// ErrNotManagedBySource: there is no source to detach the client from.
	ErrNotManagedBySource = errors.New("the client is not managed by a source")
)

// ManagedBySourceError names the source a refused deletion belongs to.
type ManagedBySourceError struct {
	Source string
}

func (e *ManagedBySourceError) Error() string {
	return "the client is managed by source " + e.Source + ": delete it there, or detach it first"
}

func (e *ManagedBySourceError) Is(target error) bool { return target == ErrManagedBySource }

// ClientDetachedFromSource: an admin made a client the source managed the
// office's own. Its reference to the source is dropped, and what the source
// says about that record later no longer changes it.
type ClientDetachedFromSource struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

func (ClientDetachedFromSource) EventName() string  { return "ClientDetachedFromSource" }
func (ClientDetachedFromSource) SchemaVersion() int { return 1 }

func init() {
	registerEvent(func() Event { return &ClientDetachedFromSource{} })
}

// ManagedBy names the source that owns the client, "" when the office does:
// an ERP that still has the client (one it deleted no longer owns it).
func (c *Client) ManagedBy() string {
	erp := SourceName(ProviderERP)
	if slices.ContainsFunc(c.refs, func(r ExternalRef) bool { return r.Source == erp }) && !c.src.removedAt[erp] {
		return erp
	}
	return ""
}

// DetachFromSource makes a client its source managed the office's own.
func (c *Client) DetachFromSource() error {
	if c.deleted {
		return ErrClientDeleted
	}
	source := c.ManagedBy()
	if source == "" {
		return ErrNotManagedBySource
	}
	i := slices.IndexFunc(c.refs, func(r ExternalRef) bool { return r.Source == source })
	c.record(ClientDetachedFromSource{Source: source, ExternalID: c.refs[i].ExternalID})
	return nil
}

// detachedFrom tells whether an admin detached the client from source: its
// records there no longer change it.
func (c *Client) detachedFrom(source string) bool { return c.src.detached[source] }

func (c *Client) whenDetached(e ClientDetachedFromSource) {
	c.refs = slices.DeleteFunc(c.refs, func(r ExternalRef) bool { return r.Source == e.Source })
	delete(c.src.removedAt, e.Source)
	if c.src.detached == nil {
		c.src.detached = map[string]bool{}
	}
	c.src.detached[e.Source] = true
}
