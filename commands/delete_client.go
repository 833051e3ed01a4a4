package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// DeleteClient removes a client (restorable). Its email becomes free.
type DeleteClient struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ExpectedVersion *int
	Reason          string
}

type DeleteClientHandler struct{ store EventStore }

func (h DeleteClientHandler) Handle(ctx context.Context, cmd DeleteClient) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.Delete(cmd.Reason)
	})
}
