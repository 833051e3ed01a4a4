package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RemoveClientFromList takes a client off a list.
type RemoveClientFromList struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ListID          uuid.UUID
	ExpectedVersion *int
}

type RemoveClientFromListHandler struct{ store EventStore }

func (h RemoveClientFromListHandler) Handle(ctx context.Context, cmd RemoveClientFromList) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.RemoveFromList(cmd.ListID)
	})
}
