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

// changeList is changeClient for lists.
func changeList(ctx context.Context, store EventStore, origin domain.Origin, id uuid.UUID, expected *int,
	decide func(*domain.List) error) (Result, error) {
	attempt := func() (Result, error) {
		l, err := loadList(ctx, store, origin.TenantID, id)
		if err != nil {
			return Result{}, err
		}
		if err := checkVersion(l, expected); err != nil {
			return Result{}, err
		}
		if err := decide(l); err != nil {
			return Result{}, err
		}
		return save(ctx, store, origin, l)
	}
	if expected != nil {
		return attempt()
	}
	return retryOnConflict(ctx, attempt)
}
