package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// CreateList adds a list; names are unique per tenant.
type CreateList struct {
	Origin domain.Origin
	Name   string
}

type CreateListHandler struct{ store EventStore }

func (h CreateListHandler) Handle(ctx context.Context, cmd CreateList) (Result, error) {
	list, err := domain.CreateList(uuid.New(), cmd.Name)
	if err != nil {
		return Result{}, err
	}
	return save(ctx, h.store, cmd.Origin, list)
}
