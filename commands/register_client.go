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
	fields, err := loadCustomFields(ctx, h.store, cmd.Origin.TenantID)
	if err != nil {
		return Result{}, err
	}
	client, err := domain.RegisterClient(uuid.New(), cmd.Input, fields)
	if err != nil {
		return Result{}, err
	}
	return save(ctx, h.store, cmd.Origin, client)
}
