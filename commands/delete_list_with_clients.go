package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// DeleteListWithClients deletes a list and the clients that were there only
// for it: a newsletter sender replacing a base deletes the old list with its
// contacts before importing the new file.
type DeleteListWithClients struct {
	Origin          domain.Origin
	ListID          uuid.UUID
	ExpectedVersion *int
}

// ListDeletion is what deleting a list with its clients did.
type ListDeletion struct {
	Result
	DeletedClients int              `json:"deleted_clients"`
	Kept           []ListKeptClient `json:"kept"`
}

// ListKeptClient is a client a list's deletion (or its undo) left alone.
type ListKeptClient struct {
	ClientID uuid.UUID `json:"client_id"`
	Reason   string    `json:"reason"`
}

// ListMembers proposes the clients on a list (at least every one that is):
// each one's own stream decides whether it is still on the list and what
// happens to it.
type ListMembers interface {
	ListMembers(ctx context.Context, tenantID, listID uuid.UUID) ([]uuid.UUID, error)
}

type DeleteListWithClientsHandler struct {
	store   EventStore
	members ListMembers
}

func (h DeleteListWithClientsHandler) Handle(ctx context.Context, cmd DeleteListWithClients) (ListDeletion, error) {
	attempt := func() (ListDeletion, error) {
		list, err := loadList(ctx, h.store, cmd.Origin.TenantID, cmd.ListID)
		if err != nil {
			return ListDeletion{}, err
		}
		if err := checkVersion(list, cmd.ExpectedVersion); err != nil {
			return ListDeletion{}, err
		}
		if list.Deleted() {
			return ListDeletion{}, domain.ErrListDeleted
		}
		ids, err := h.members.ListMembers(ctx, cmd.Origin.TenantID, cmd.ListID)
		if err != nil {
			return ListDeletion{}, err
		}
		loaded, err := loadClients(ctx, h.store, cmd.Origin.TenantID, ids)
		if err != nil {
			return ListDeletion{}, err
		}
		clients := make([]*domain.Client, 0, len(loaded))
		for _, c := range loaded {
			err := usable(c)
			if errors.Is(err, domain.ErrClientNotFound) {
				continue
			}
			if err != nil {
				return ListDeletion{}, err
			}
			clients = append(clients, c)
		}
		live, err := h.liveLists(ctx, cmd.Origin.TenantID, cmd.ListID, clients)
		if err != nil {
			return ListDeletion{}, err
		}
		out := ListDeletion{Kept: []ListKeptClient{}}
		took := []uuid.UUID{}
		aggs := []domain.Aggregate{list}
		for _, c := range clients {
			deleted, kept := c.DeleteWithList(cmd.ListID, func(id uuid.UUID) bool { return live[id] })
			switch {
			case deleted:
				took = append(took, c.ID())
				aggs = append(aggs, c)
			case kept != "":
				out.Kept = append(out.Kept, ListKeptClient{ClientID: c.ID(), Reason: kept})
			}
		}
		if err := list.DeleteWithClients(took); err != nil {
			return ListDeletion{}, err
		}
		pos, err := h.store.Save(ctx, cmd.Origin, aggs...)
		if err != nil {
			return ListDeletion{}, err
		}
		out.Result = Result{ID: list.ID(), Version: list.Version() + 1, Position: pos}
		out.DeletedClients = len(took)
		return out, nil
	}
	if cmd.ExpectedVersion != nil {
		return attempt()
	}
	return retryOnConflict(ctx, attempt)
}

// liveLists tells, of the other lists the clients are on, which still
// exist: a client on another live list stays.
func (h DeleteListWithClientsHandler) liveLists(ctx context.Context, tenantID, deleting uuid.UUID, clients []*domain.Client) (map[uuid.UUID]bool, error) {
	live := map[uuid.UUID]bool{}
	seen := map[uuid.UUID]bool{deleting: true}
	for _, c := range clients {
		for _, id := range c.Lists() {
			if seen[id] {
				continue
			}
			seen[id] = true
			l, err := loadList(ctx, h.store, tenantID, id)
			if errors.Is(err, domain.ErrListNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			live[id] = !l.Deleted()
		}
	}
	return live, nil
}
