package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// AddClientToList puts a client on one of the tenant's lists.
type AddClientToList struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ListID          uuid.UUID
	ExpectedVersion *int
}

type AddClientToListHandler struct{ store EventStore }

func (h AddClientToListHandler) Handle(ctx context.Context, cmd AddClientToList) (Result, error) {
	// The list is read again on every attempt so a retry sees a deletion.
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		list, err := loadList(ctx, h.store, cmd.Origin.TenantID, cmd.ListID)
		if err != nil {
			return err
		}
		return c.AddToList(list)
	})
}
