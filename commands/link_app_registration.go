package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// LinkAppRegistration is the office linking a registration that matched
// no client (another email) to the client it knows it is: the client gets
// the registration and, the office having vouched for it, validated access
// (AppUserRegistered, AppAccessValidated).
type LinkAppRegistration struct {
	Origin         domain.Origin
	RegistrationID uuid.UUID
	ClientID       uuid.UUID
}

type LinkAppRegistrationHandler struct {
	store EventStore
	repo  AppRegistrationRepository
}

func (h LinkAppRegistrationHandler) Handle(ctx context.Context, cmd LinkAppRegistration) (Result, error) {
	reg, err := h.repo.PendingByID(ctx, cmd.Origin.TenantID, cmd.RegistrationID)
	if err != nil {
		return Result{}, err
	}
	res, err := changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		if err := c.RegisterAppUser(reg.ID, reg.Email, reg.Device); err != nil {
			return err
		}
		return c.ValidateAccess()
	})
	if err != nil {
		return Result{}, err
	}
	return res, h.repo.Resolve(ctx, cmd.Origin.TenantID, reg.Email)
}
