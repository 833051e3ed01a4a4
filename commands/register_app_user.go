package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// PendingRegistration is an app registration whose email matched no client.
type PendingRegistration struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Device    string    `json:"device,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AppRegistrationRepository keeps the registrations that matched nobody.
type AppRegistrationRepository interface {
	ClientMatcher
	// KeepPending stores (or refreshes) the pending registration of an
	// email and returns its id.
	KeepPending(ctx context.Context, tenantID uuid.UUID, email, device string) (uuid.UUID, error)
	// Resolve drops the pending registrations of an email, now linked.
	Resolve(ctx context.Context, tenantID uuid.UUID, email string) error
	Pending(ctx context.Context, tenantID uuid.UUID) ([]PendingRegistration, error)
	// PendingByID reads one; ErrRegistrationNotFound when it is not pending.
	PendingByID(ctx context.Context, tenantID, id uuid.UUID) (PendingRegistration, error)
	// Drop forgets one (the office rejected it).
	Drop(ctx context.Context, tenantID, id uuid.UUID) error
}

// ErrRegistrationNotFound: no pending registration has this id.
var ErrRegistrationNotFound = errors.New("no pending app registration with this id")

// RegisterAppUser links a user of the office's app to the client with the
// same email (case-insensitive), or keeps it pending.
type RegisterAppUser struct {
	Origin domain.Origin
	Email  string
	Device string
}

// AppRegistrationResult says what became of a registration.
type AppRegistrationResult struct {
	ID           uuid.UUID `json:"id"`
	Status       string    `json:"status"` // linked, pending
	ClientID     uuid.UUID `json:"client_id,omitzero"`
	AccessStatus string    `json:"access_status,omitempty"`
	Version      int       `json:"version,omitempty"`
	Position     int64     `json:"position,omitempty"`
}

type RegisterAppUserHandler struct {
	store EventStore
	repo  AppRegistrationRepository
}

func (h RegisterAppUserHandler) Handle(ctx context.Context, cmd RegisterAppUser) (AppRegistrationResult, error) {
	email, err := domain.AppEmail(cmd.Email)
	if err != nil {
		return AppRegistrationResult{}, err
	}
	if cmd.Device, err = domain.AppDevice(cmd.Device); err != nil {
		return AppRegistrationResult{}, err
	}
	key := domain.EmailLookupKey(domain.EmailKey(email))
	found, err := h.repo.MatchClients(ctx, cmd.Origin.TenantID, []domain.UniqueKey{key})
	if err != nil {
		return AppRegistrationResult{}, err
	}
	clientID, ok := found[key]
	if !ok {
		id, err := h.repo.KeepPending(ctx, cmd.Origin.TenantID, email, cmd.Device)
		if err != nil {
			return AppRegistrationResult{}, err
		}
		return AppRegistrationResult{ID: id, Status: "pending"}, nil
	}
	regID := uuid.New()
	var access string
	res, err := changeClient(ctx, h.store, cmd.Origin, clientID, nil, func(c *domain.Client) error {
		if err := c.RegisterAppUser(regID, email, cmd.Device); err != nil {
			return err
		}
		access = c.AccessStatus()
		return nil
	})
	if err != nil {
		return AppRegistrationResult{}, err
	}
	if err := h.repo.Resolve(ctx, cmd.Origin.TenantID, email); err != nil {
		return AppRegistrationResult{}, err
	}
	return AppRegistrationResult{ID: regID, Status: "linked", ClientID: clientID, AccessStatus: access,
		Version: res.Version, Position: res.Position}, nil
}

// AppHandlers groups the handlers of the client's app.
type AppHandlers struct {
	Invite   InviteClientHandler
	Validate ValidateAccessHandler
	Register RegisterAppUserHandler
	Revoke   RevokeAppAccessHandler
	Reject   RejectAppRegistrationHandler
	Link     LinkAppRegistrationHandler
	View     AppViewQuery
}

// NewAppHandlers wires the app handlers.
func NewAppHandlers(store EventStore, repo AppRegistrationRepository) AppHandlers {
	return AppHandlers{Invite: InviteClientHandler{store}, Validate: ValidateAccessHandler{store},
		Register: RegisterAppUserHandler{store: store, repo: repo}, Revoke: RevokeAppAccessHandler{store},
		Reject: RejectAppRegistrationHandler{store: store, repo: repo}, Link: LinkAppRegistrationHandler{store: store, repo: repo},
		View: AppViewQuery{store}}
}
