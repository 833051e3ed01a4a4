package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// DeleteList removes a list; its name becomes free again.
type DeleteList struct {
	Origin          domain.Origin
	ListID          uuid.UUID
	ExpectedVersion *int
}

type DeleteListHandler struct{ store EventStore }

func (h DeleteListHandler) Handle(ctx context.Context, cmd DeleteList) (Result, error) {
	return changeList(ctx, h.store, cmd.Origin, cmd.ListID, cmd.ExpectedVersion, func(l *domain.List) error {
		return l.Delete()
	})
}
