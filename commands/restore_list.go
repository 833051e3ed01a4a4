package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RestoreList undoes a list's deletion, once: the list comes back with its
// memberships and the clients its deletion took, unless something touched
// them since or their email was taken meanwhile.
type RestoreList struct {
	Origin domain.Origin
	ListID uuid.UUID
}

// ListRestoration is what restoring a list did.
type ListRestoration struct {
	Result
	RestoredClients int              `json:"restored_clients"`
	Kept            []ListKeptClient `json:"kept"`
}

type RestoreListHandler struct {
	store   EventStore
	matcher ClientMatcher
}

func (h RestoreListHandler) Handle(ctx context.Context, cmd RestoreList) (ListRestoration, error) {
	return retryOnConflict(ctx, func() (ListRestoration, error) { return h.attempt(ctx, cmd) })
}

func (h RestoreListHandler) attempt(ctx context.Context, cmd RestoreList) (ListRestoration, error) {
	list, err := loadList(ctx, h.store, cmd.Origin.TenantID, cmd.ListID)
	if err != nil {
		return ListRestoration{}, err
	}
	took, err := list.Restore()
	if err != nil {
		return ListRestoration{}, err
	}
	out := ListRestoration{Kept: []ListKeptClient{}}
	aggs := []domain.Aggregate{list}
	var restoring []*domain.Client
	clients, err := loadClients(ctx, h.store, cmd.Origin.TenantID, took)
	if err != nil {
		return ListRestoration{}, err
	}
	for _, c := range clients {
		if err := usable(c); err != nil {
			return ListRestoration{}, err
		}
		if kept := c.RestoreWithList(cmd.ListID); kept != "" {
			out.Kept = append(out.Kept, ListKeptClient{ClientID: c.ID(), Reason: kept})
			continue
		}
		restoring = append(restoring, c)
	}
	taken, err := h.keysTaken(ctx, cmd.Origin.TenantID, restoring)
	if err != nil {
		return ListRestoration{}, err
	}
	for _, c := range restoring {
		if taken[c.ID()] {
			out.Kept = append(out.Kept, ListKeptClient{ClientID: c.ID(), Reason: domain.KeptEmailTaken})
			continue
		}
		aggs = append(aggs, c)
		out.RestoredClients++
	}
	pos, err := h.store.Save(ctx, cmd.Origin, aggs...)
	if err != nil {
		return ListRestoration{}, err
	}
	out.Result = Result{ID: list.ID(), Version: list.Version() + 1, Position: pos}
	return out, nil
}

// keysTaken tells which clients would take back a unique value (an email)
// that another client holds now: those stay deleted, reported, rather than
// failing the whole restore.
func (h RestoreListHandler) keysTaken(ctx context.Context, tenantID uuid.UUID, clients []*domain.Client) (map[uuid.UUID]bool, error) {
	// A lookup answers by kind and value alone.
	lookup := func(k domain.UniqueKey) domain.UniqueKey { return domain.UniqueKey{Kind: k.Kind, Value: k.Value} }
	var keys []domain.UniqueKey
	for _, c := range clients {
		for _, k := range c.UniqueKeys() {
			keys = append(keys, lookup(k))
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	owners, err := h.matcher.MatchClients(ctx, tenantID, keys)
	if err != nil {
		return nil, err
	}
	taken := map[uuid.UUID]bool{}
	for _, c := range clients {
		for _, k := range c.UniqueKeys() {
			if owner, ok := owners[lookup(k)]; ok && owner != c.ID() {
				taken[c.ID()] = true
			}
		}
	}
	return taken, nil
}
