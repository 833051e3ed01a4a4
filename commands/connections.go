package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ConnectionSecrets are the credentials of one connection. They are stored
// encrypted, apart from the log, and never leave through the API or logs.
type ConnectionSecrets struct {
	APIKey       string    `json:"api_key,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ERPSecret    string    `json:"erp_secret,omitempty"`
}

// String keeps secrets out of any log line that prints the struct.
func (ConnectionSecrets) String() string { return "ConnectionSecrets{redacted}" }

// PendingAuthorization is an OAuth2 consent the office has not given yet.
type PendingAuthorization struct {
	State     string
	Verifier  string
	ExpiresAt time.Time
}

// ConnectionRow is what the connections table says beside the stream.
type ConnectionRow struct {
	TenantID  uuid.UUID
	ID        uuid.UUID
	Provider  string
	Active    bool
	NextRunAt *time.Time
	Running   bool
}

// ConnectionRepository stores connections: their events together with
// their sealed secrets and schedule.
type ConnectionRepository interface {
	// Create appends the new connection's events and stores its row. A
	// second active connection to a provider is domain.ErrConnectionExists.
	Create(ctx context.Context, origin domain.Origin, conn *domain.Connection, secrets *ConnectionSecrets, pending *PendingAuthorization, runNow bool) (int64, error)
	// TakeAuthorization consumes a pending consent by its state.
	TakeAuthorization(ctx context.Context, state string) (tenantID, connectionID uuid.UUID, verifier string, err error)
	// Activate appends the connection's events, stores its secrets and
	// schedules its first run, in one transaction.
	Activate(ctx context.Context, origin domain.Origin, conn *domain.Connection, secrets ConnectionSecrets) (int64, error)
	// Revoke appends the connection's events and forgets its secrets.
	Revoke(ctx context.Context, origin domain.Origin, conn *domain.Connection) (int64, error)
	Secrets(ctx context.Context, tenantID, connectionID uuid.UUID) (ConnectionSecrets, error)
	SaveSecrets(ctx context.Context, tenantID, connectionID uuid.UUID, secrets ConnectionSecrets) error
	// ScheduleNow asks for a run as soon as a worker is free.
	ScheduleNow(ctx context.Context, tenantID, connectionID uuid.UUID) error
	Rows(ctx context.Context, tenantID uuid.UUID) ([]ConnectionRow, error)
}

// OAuthFlow is the OAuth2 authorization code flow with PKCE of a provider.
type OAuthFlow interface {
	// Begin returns the URL to send the office to, with a fresh state and
	// PKCE verifier.
	Begin() (authURL, state, verifier string)
	// Exchange trades the code for tokens.
	Exchange(ctx context.Context, code, verifier string) (ConnectionSecrets, error)
}

// SourceChecker checks credentials against the source at connect time.
type SourceChecker interface {
	// CheckAdminIS logs in to an Admin IS | Consult server. A wrong key or
	// URL is a domain.ValidationErrors naming the field.
	CheckAdminIS(ctx context.Context, baseURL, apiKey string) error
	// CheckAdminPulse reads one relation with an AdminPulse API key. A
	// refused key is a domain.ValidationErrors naming api_key.
	CheckAdminPulse(ctx context.Context, apiKey string) error
}

// loadConnection folds a connection's stream.
func loadConnection(ctx context.Context, store EventStore, tenantID, id uuid.UUID) (*domain.Connection, error) {
	c := domain.NewConnection(id)
	if err := store.Load(ctx, tenantID, c); err != nil {
		return nil, err
	}
	if c.Version() == 0 {
		return nil, domain.ErrConnectionNotFound
	}
	return c, nil
}

// ConnectionHandlers groups the handlers of connections and syncs.
type ConnectionHandlers struct {
	Connect   ConnectSourceHandler
	Authorize AuthorizeSourceHandler
	Revoke    RevokeConnectionHandler
	SyncNow   SyncNowHandler
	Run       RunSyncHandler
	Push      PushClientHandler
	// Scheduled wakes the sync scheduler when a run is asked for.
	Scheduled *Wakeup
}

// ConnectionDeps is what the connection handlers need from the adapters.
type ConnectionDeps struct {
	Store   EventStore
	Repo    ConnectionRepository
	Syncs   SyncRepository
	Pushes  PushRepository
	OAuth   OAuthFlow // nil: AdminPulse is not configured
	Checker SourceChecker
	Sources PullerFactory
	// Interval between scheduled runs.
	Interval time.Duration
	Now      func() time.Time
}

// NewConnectionHandlers wires the connection handlers.
func NewConnectionHandlers(d ConnectionDeps) ConnectionHandlers {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Interval <= 0 {
		d.Interval = 15 * time.Minute
	}
	scheduled := NewWakeup()
	return ConnectionHandlers{
		Scheduled: scheduled,
		Connect:   ConnectSourceHandler{store: d.Store, repo: d.Repo, oauth: d.OAuth, checker: d.Checker, scheduled: scheduled},
		Authorize: AuthorizeSourceHandler{store: d.Store, repo: d.Repo, oauth: d.OAuth, scheduled: scheduled},
		Revoke:    RevokeConnectionHandler{store: d.Store, repo: d.Repo},
		SyncNow:   SyncNowHandler{store: d.Store, repo: d.Repo, scheduled: scheduled},
		Run:       RunSyncHandler{store: d.Store, repo: d.Repo, syncs: d.Syncs, sources: d.Sources, interval: d.Interval, now: d.Now},
		Push:      PushClientHandler{store: d.Store, repo: d.Repo, syncs: d.Syncs, push: d.Pushes, now: d.Now},
	}
}
