package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ChangeClientDetails edits fields of a client. ExpectedVersion is the
// version the editor saw; a stale one is a conflict, never a silent overwrite.
type ChangeClientDetails struct {
	Origin          domain.Origin
	ClientID        uuid.UUID
	ExpectedVersion int
	Input           domain.ClientInput
}

type ChangeClientDetailsHandler struct{ store EventStore }

func (h ChangeClientDetailsHandler) Handle(ctx context.Context, cmd ChangeClientDetails) (Result, error) {
	fields, err := loadCustomFields(ctx, h.store, cmd.Origin.TenantID)
	if err != nil {
		return Result{}, err
	}
	return changeClient(ctx, h.store, cmd.Origin, cmd.ClientID, &cmd.ExpectedVersion, func(c *domain.Client) error {
		return c.ChangeDetails(cmd.Input, fields)
	})
}
