package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RemoveContactPerson detaches a contact person from its client.
type RemoveContactPerson struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ContactID       uuid.UUID
	ExpectedVersion *int
}

type RemoveContactPersonHandler struct{ store EventStore }

func (h RemoveContactPersonHandler) Handle(ctx context.Context, cmd RemoveContactPerson) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.RemoveContactPerson(cmd.ContactID)
	})
}
