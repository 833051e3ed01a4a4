package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RegisterClient adds a client by hand.
type RegisterClient struct {
	Origin domain.Origin
	Input  domain.ClientInput
}

type RegisterClientHandler struct{ store EventStore }

func (h RegisterClientHandler) Handle(ctx context.Context, cmd RegisterClient) (Result, error) {
	// The registry's custom fields only check custom values: without any,
	// the read of their stream is saved (a round trip of every POST).
	fields := domain.NewCustomFieldSet(cmd.Origin.TenantID)
	if len(cmd.Input.CustomFields) > 0 {
		var err error
		if fields, err = loadCustomFields(ctx, h.store, cmd.Origin.TenantID); err != nil {
			return Result{}, err
		}
	}
	client, err := domain.RegisterClient(uuid.New(), cmd.Input, fields)
	if err != nil {
		return Result{}, err
	}
	return save(ctx, h.store, cmd.Origin, client)
}
