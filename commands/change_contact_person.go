package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ChangeContactPerson edits fields of one contact person.
type ChangeContactPerson struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ContactID       uuid.UUID
	ExpectedVersion *int
	Details         map[string]string
}

type ChangeContactPersonHandler struct{ store EventStore }

func (h ChangeContactPersonHandler) Handle(ctx context.Context, cmd ChangeContactPerson) (Result, error) {
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.ChangeContactPerson(cmd.ContactID, cmd.Details)
	})
}
