package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// AddContactPerson attaches a contact person to a client.
type AddContactPerson struct {
	Origin   domain.Origin
	ClientID uuid.UUID
	Details  map[string]string
}

type AddContactPersonHandler struct{ store EventStore }

// Handle returns the client's new version; the new contact's id is ContactID.
func (h AddContactPersonHandler) Handle(ctx context.Context, cmd AddContactPerson) (res Result, contactID uuid.UUID, err error) {
	contactID = uuid.New()
	res, err = changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, nil, func(c *domain.Client) error {
		return c.AddContactPerson(contactID, cmd.Details)
	})
	return res, contactID, err
}
