package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RevokeAppAccess takes a client's app access back (AppAccessRevoked); the
// app is told "none" on its next call.
type RevokeAppAccess struct {
	Origin   domain.Origin
	ClientID uuid.UUID
}

type RevokeAppAccessHandler struct{ store EventStore }

func (h RevokeAppAccessHandler) Handle(ctx context.Context, cmd RevokeAppAccess) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		return c.RevokeAccess()
	})
}
