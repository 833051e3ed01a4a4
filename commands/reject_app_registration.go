package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RejectAppRegistration refuses a registration waiting for the office:
// on a client (AppRegistrationRejected), or one that matched no client
// (forgotten; it has no stream to record an event in).
type RejectAppRegistration struct {
	Origin         domain.Origin
	ClientID       uuid.UUID // set: the client's waiting registration
	RegistrationID uuid.UUID // set: a registration that matched no client
}

type RejectAppRegistrationHandler struct {
	store EventStore
	repo  AppRegistrationRepository
}

func (h RejectAppRegistrationHandler) Handle(ctx context.Context, cmd RejectAppRegistration) (Result, error) {
	if cmd.ClientID == uuid.Nil {
		return Result{ID: cmd.RegistrationID}, h.repo.Drop(ctx, cmd.Origin.TenantID, cmd.RegistrationID)
	}
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		return c.RejectRegistration()
	})
}
