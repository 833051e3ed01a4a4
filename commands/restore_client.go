package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RestoreClient brings a deleted client back. It fails with a duplicate
// error when someone else took its email in the meantime.
type RestoreClient struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ExpectedVersion *int
}

type RestoreClientHandler struct{ store EventStore }

func (h RestoreClientHandler) Handle(ctx context.Context, cmd RestoreClient) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.Restore()
	})
}
