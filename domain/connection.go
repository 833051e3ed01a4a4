package domain

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// StreamConnection is the stream type of connections to source systems.
const StreamConnection = "connection"

// Providers a connection can pull from (or be pushed to by).
const (
	ProviderAdminPulse = "adminpulse"
	ProviderAdminIS    = "admin-is-consult"
	ProviderERP        = "erp"
)

// Connection statuses.
const (
	ConnectionPending = "pending_authorization" // OAuth2 consent not given yet
	ConnectionActive  = "active"
	ConnectionRevoked = "revoked"
)

// Sync run outcomes.
const (
	SyncRunning   = "running"
	SyncSucceeded = "completed"
	SyncFailedRun = "failed"
)

// Connection errors.
var (
	ErrConnectionNotFound  = errors.New("connection not found")
	ErrConnectionRevoked   = errors.New("connection is revoked")
	ErrConnectionNotActive = errors.New("connection is not authorized yet")
	ErrConnectionExists    = errors.New("an active connection to this provider already exists")
	ErrSyncAlreadyRunning  = errors.New("a sync of this connection is running")
	ErrNotPulled           = errors.New("this connection's source pushes its clients; it is not pulled")
	ErrInvalidOAuthState   = errors.New("unknown or expired authorization state")
	// ErrSourceRejected: the source system refused what was asked of it
	// (wrong key, wrong URL, expired consent).
	ErrSourceRejected = errors.New("the source system refused the request")
	// ErrUnauthenticatedPush: a push whose signature, timestamp or secret
	// does not check out.
	ErrUnauthenticatedPush = errors.New("push not authenticated")
)

// ParseProvider checks a provider name.
func ParseProvider(s string) (string, error) {
	switch p := strings.ToLower(strings.TrimSpace(s)); p {
	case ProviderAdminPulse, ProviderAdminIS, ProviderERP:
		return p, nil
	}
	return "", ValidationErrors{{Field: "provider", Code: "unknown_provider",
		Message: `provider must be "adminpulse", "admin-is-consult" or "erp"`}}
}

// SourceName is the external-reference source of the clients a provider
// brings: one connection per provider and tenant, so the provider's name.
func SourceName(provider string) string { return provider }

// CheckBaseURL validates the base URL of a self-hosted source.
func CheckBaseURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if err := CheckText("base_url", raw, MaxURLLength); err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", ValidationErrors{{Field: "base_url", Code: "invalid_url",
			Message: "base_url must be the http(s) address of the server, like https://office.example.be"}}
	}
	return raw, nil
}

// SyncCounts is what a run did to the registry.
type SyncCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	Linked    int `json:"linked"`
	Errors    int `json:"errors"`
}

// Add sums two counts.
func (c SyncCounts) Add(o SyncCounts) SyncCounts {
	return SyncCounts{c.Created + o.Created, c.Updated + o.Updated, c.Unchanged + o.Unchanged,
		c.Removed + o.Removed, c.Linked + o.Linked, c.Errors + o.Errors}
}

// SyncIssue is a record a run could not take, and why (no personal data:
// the source's id and a reason).
type SyncIssue struct {
	ExternalID string `json:"external_id"`
	Reason     string `json:"reason"`
}

// SourceConnectionRequested: an OAuth2 source was asked for; the office
// still has to give its consent at the provider.
type SourceConnectionRequested struct {
	Provider string `json:"provider"`
}

// SourceConnected: the connection works; its secrets are stored apart,
// encrypted, never in the log.
type SourceConnected struct {
	Provider string `json:"provider"`
	BaseURL  string `json:"base_url,omitempty"`
}

// SourceDisconnected: the connection was revoked; its secrets are gone.
type SourceDisconnected struct{}

// SyncStarted: a run began (or resumed the cursor of one that failed).
type SyncStarted struct {
	RunID   uuid.UUID `json:"run_id"`
	Trigger string    `json:"trigger"` // connect, schedule, manual
}

// SyncCompleted: a run went through everything the source had.
type SyncCompleted struct {
	RunID  uuid.UUID   `json:"run_id"`
	Counts SyncCounts  `json:"counts"`
	Issues []SyncIssue `json:"issues,omitempty"`
}

// SyncFailed: a run stopped; what its committed pages did stays, the next
// run resumes from the cursor.
type SyncFailed struct {
	RunID  uuid.UUID   `json:"run_id"`
	Reason string      `json:"reason"`
	Counts SyncCounts  `json:"counts"`
	Issues []SyncIssue `json:"issues,omitempty"`
}

func (SourceConnectionRequested) EventName() string { return "SourceConnectionRequested" }
func (SourceConnected) EventName() string           { return "SourceConnected" }
func (SourceDisconnected) EventName() string        { return "SourceDisconnected" }
func (SyncStarted) EventName() string               { return "SyncStarted" }
func (SyncCompleted) EventName() string             { return "SyncCompleted" }
func (SyncFailed) EventName() string                { return "SyncFailed" }

func (SourceConnectionRequested) SchemaVersion() int { return 1 }
func (SourceConnected) SchemaVersion() int           { return 1 }
func (SourceDisconnected) SchemaVersion() int        { return 1 }
func (SyncStarted) SchemaVersion() int               { return 1 }
func (SyncCompleted) SchemaVersion() int             { return 1 }
func (SyncFailed) SchemaVersion() int                { return 1 }

func init() {
	registerEvent(func() Event { return &SourceConnectionRequested{} })
	registerEvent(func() Event { return &SourceConnected{} })
	registerEvent(func() Event { return &SourceDisconnected{} })
	registerEvent(func() Event { return &SyncStarted{} })
	registerEvent(func() Event { return &SyncCompleted{} })
	registerEvent(func() Event { return &SyncFailed{} })
}

// SyncRun is the last run of a connection as the office sees it.
type SyncRun struct {
	ID         uuid.UUID   `json:"id"`
	Trigger    string      `json:"trigger"`
	Status     string      `json:"status"`
	StartedAt  time.Time   `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at,omitempty"`
	Counts     SyncCounts  `json:"counts"`
	Error      string      `json:"error,omitempty"`
	Issues     []SyncIssue `json:"issues,omitempty"`
}

// Connection is the aggregate behind one connection's stream.
type Connection struct {
	id          uuid.UUID
	version     int
	provider    string
	baseURL     string
	status      string
	connectedAt time.Time
	lastRun     *SyncRun
	lastError   string
	pending     []Event
	// at is the time of the event being applied (from its envelope).
	at time.Time
}

// NewConnection returns an empty connection to fold a stream into.
func NewConnection(id uuid.UUID) *Connection { return &Connection{id: id} }

// RequestConnection starts a connection. An OAuth2 provider waits for the
// office's consent (Authorize); the others are connected at once, their
// credentials having been checked by the caller.
func RequestConnection(id uuid.UUID, provider, baseURL string) (*Connection, error) {
	provider, err := ParseProvider(provider)
	if err != nil {
		return nil, err
	}
	if provider == ProviderAdminIS {
		if baseURL, err = CheckBaseURL(baseURL); err != nil {
			return nil, err
		}
	} else {
		baseURL = ""
	}
	c := NewConnection(id)
	if provider == ProviderAdminPulse {
		c.record(SourceConnectionRequested{Provider: provider})
	} else {
		c.record(SourceConnected{Provider: provider, BaseURL: baseURL})
	}
	return c, nil
}

// Authorize records the consent of an OAuth2 provider.
func (c *Connection) Authorize() error {
	switch c.status {
	case ConnectionRevoked:
		return ErrConnectionRevoked
	case ConnectionActive:
		return nil
	}
	c.record(SourceConnected{Provider: c.provider})
	return nil
}

// Revoke ends the connection; syncs stop and pushes are refused.
func (c *Connection) Revoke() error {
	if c.status == ConnectionRevoked {
		return ErrConnectionRevoked
	}
	c.record(SourceDisconnected{})
	return nil
}

// StartSync opens a run. Only active, pulled connections sync.
func (c *Connection) StartSync(runID uuid.UUID, trigger string) error {
	if err := c.CheckActive(); err != nil {
		return err
	}
	if c.provider == ProviderERP {
		return ErrNotPulled
	}
	c.record(SyncStarted{RunID: runID, Trigger: trigger})
	return nil
}

// CompleteSync closes the open run.
func (c *Connection) CompleteSync(runID uuid.UUID, counts SyncCounts, issues []SyncIssue) {
	c.record(SyncCompleted{RunID: runID, Counts: counts, Issues: issues})
}

// FailSync closes the open run with the reason, in words an office reads.
func (c *Connection) FailSync(runID uuid.UUID, reason string, counts SyncCounts, issues []SyncIssue) {
	c.record(SyncFailed{RunID: runID, Reason: CleanText(reason, 1000), Counts: counts, Issues: issues})
}

// CheckActive tells whether the connection may sync or take pushes.
func (c *Connection) CheckActive() error {
	switch c.status {
	case ConnectionActive:
		return nil
	case ConnectionRevoked:
		return ErrConnectionRevoked
	}
	return ErrConnectionNotActive
}

// Accessors.
func (c *Connection) ID() uuid.UUID          { return c.id }
func (c *Connection) StreamID() uuid.UUID    { return c.id }
func (c *Connection) StreamType() string     { return StreamConnection }
func (c *Connection) Version() int           { return c.version }
func (c *Connection) Provider() string       { return c.provider }
func (c *Connection) BaseURL() string        { return c.baseURL }
func (c *Connection) Status() string         { return c.status }
func (c *Connection) ConnectedAt() time.Time { return c.connectedAt }
func (c *Connection) LastError() string      { return c.lastError }
func (c *Connection) PendingEvents() []Event { return c.pending }
func (c *Connection) UniqueKeys() []UniqueKey {
	return nil // one active connection per provider is kept by the connections table
}

// LastRun is the most recent run, nil before the first.
func (c *Connection) LastRun() *SyncRun {
	if c.lastRun == nil {
		return nil
	}
	r := *c.lastRun
	return &r
}

// Apply folds a recorded event into the connection.
func (c *Connection) Apply(e RecordedEvent) {
	c.at = e.OccurredAt
	c.when(e.Event)
	c.version = e.StreamVersion
}

func (c *Connection) record(e Event) {
	c.at = time.Now().UTC()
	c.when(e)
	c.pending = append(c.pending, e)
}

func (c *Connection) when(e Event) {
	switch e := e.(type) {
	case SourceConnectionRequested:
		c.provider, c.status = e.Provider, ConnectionPending
	case SourceConnected:
		c.provider, c.baseURL, c.status, c.connectedAt = e.Provider, e.BaseURL, ConnectionActive, c.at
	case SourceDisconnected:
		c.status = ConnectionRevoked
	case SyncStarted:
		c.lastRun = &SyncRun{ID: e.RunID, Trigger: e.Trigger, Status: SyncRunning, StartedAt: c.at}
	case SyncCompleted:
		c.finish(e.RunID, SyncSucceeded, e.Counts, "", e.Issues)
		c.lastError = ""
	case SyncFailed:
		c.finish(e.RunID, SyncFailedRun, e.Counts, e.Reason, e.Issues)
		c.lastError = e.Reason
	}
}

func (c *Connection) finish(runID uuid.UUID, status string, counts SyncCounts, reason string, issues []SyncIssue) {
	if c.lastRun == nil || c.lastRun.ID != runID {
		c.lastRun = &SyncRun{ID: runID, StartedAt: c.at}
	}
	at := c.at
	c.lastRun.Status, c.lastRun.Counts, c.lastRun.Error, c.lastRun.FinishedAt = status, counts, reason, &at
	c.lastRun.Issues = issues
}
