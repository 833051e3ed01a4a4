package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RenameList gives a list a new name.
type RenameList struct {
	Origin          domain.Origin
	ListID          uuid.UUID
	ExpectedVersion *int
	Name            string
}

type RenameListHandler struct{ store EventStore }

func (h RenameListHandler) Handle(ctx context.Context, cmd RenameList) (Result, error) {
	return changeList(ctx, h.store, cmd.Origin, cmd.ListID, cmd.ExpectedVersion, func(l *domain.List) error {
		return l.Rename(cmd.Name)
	})
}
