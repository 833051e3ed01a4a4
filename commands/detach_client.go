package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// DetachClient makes a client its ERP managed the office's own: it can then
// be edited and deleted here only.
type DetachClient struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ExpectedVersion *int
}

type DetachClientHandler struct{ store EventStore }

func (h DetachClientHandler) Handle(ctx context.Context, cmd DetachClient) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.DetachFromSource()
	})
}
