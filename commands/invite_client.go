package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// InviteClient invites a client to the office's app.
type InviteClient struct {
	Origin   domain.Origin
	ClientID uuid.UUID
}

type InviteClientHandler struct{ store EventStore }

func (h InviteClientHandler) Handle(ctx context.Context, cmd InviteClient) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		return c.Invite()
	})
}

// ValidateAccess is an office confirming by hand that the app user is
// the client.
type ValidateAccess struct {
	Origin   domain.Origin
	ClientID uuid.UUID
}

type ValidateAccessHandler struct{ store EventStore }

func (h ValidateAccessHandler) Handle(ctx context.Context, cmd ValidateAccess) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		return c.ValidateAccess()
	})
}
