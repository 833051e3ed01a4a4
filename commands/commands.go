// Package commands holds one handler per use case. Each handler loads the
// streams it needs, lets the domain decide, and appends what was decided.
package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// EventStore is what the handlers need from the log.
type EventStore interface {
	// Load folds each aggregate's stream of the tenant into it, reading
	// them together; a missing stream leaves its aggregate at version 0.
	Load(ctx context.Context, tenantID uuid.UUID, aggs ...domain.Aggregate) error
	// Save appends the aggregates' pending events atomically, each at the
	// version it was loaded at, and returns the position of the last event.
	Save(ctx context.Context, origin domain.Origin, aggs ...domain.Aggregate) (int64, error)
	// SaveErasure appends a client's erasure and, in the same transaction,
	// destroys its data key and the copies of its personal data kept beside
	// the log (uploaded files, analysis values).
	SaveErasure(ctx context.Context, origin domain.Origin, c *domain.Client, copies Erasure) (int64, error)
}

// Result tells the caller where the stream stands after a command:
// Position lets it read its own write from any read model.
type Result struct {
	ID       uuid.UUID `json:"id"`
	Version  int       `json:"version"`
	Position int64     `json:"position"`
}

// Handlers groups every command handler of the application.
type Handlers struct {
	RegisterClient       RegisterClientHandler
	ChangeClientDetails  ChangeClientDetailsHandler
	DeleteClient         DeleteClientHandler
	DetachClient         DetachClientHandler
	RestoreClient        RestoreClientHandler
	AddContactPerson     AddContactPersonHandler
	ChangeContactPerson  ChangeContactPersonHandler
	RemoveContactPerson  RemoveContactPersonHandler
	AddClientToList      AddClientToListHandler
	RemoveClientFromList RemoveClientFromListHandler
	CreateList           CreateListHandler
	RenameList           RenameListHandler
	DeleteList           DeleteListHandler
	DefineCustomField    DefineCustomFieldHandler
	// Wired by WithLookups: they read beside the log.
	DeleteListWithClients DeleteListWithClientsHandler
	RestoreList           RestoreListHandler
}

// NewHandlers wires every handler to one event store.
func NewHandlers(store EventStore) Handlers {
	return Handlers{
		RegisterClient:       RegisterClientHandler{store},
		ChangeClientDetails:  ChangeClientDetailsHandler{store},
		DeleteClient:         DeleteClientHandler{store},
		DetachClient:         DetachClientHandler{store},
		RestoreClient:        RestoreClientHandler{store},
		AddContactPerson:     AddContactPersonHandler{store},
		ChangeContactPerson:  ChangeContactPersonHandler{store},
		RemoveContactPerson:  RemoveContactPersonHandler{store},
		AddClientToList:      AddClientToListHandler{store},
		RemoveClientFromList: RemoveClientFromListHandler{store},
		CreateList:           CreateListHandler{store},
		RenameList:           RenameListHandler{store},
		DeleteList:           DeleteListHandler{store},
		DefineCustomField:    DefineCustomFieldHandler{store},
	}
}

// WithLookups wires the handlers that need more than the log: deleting a
// list with its clients finds them through members; restoring one checks
// through matcher that their emails are still free.
func (h Handlers) WithLookups(members ListMembers, matcher ClientMatcher) Handlers {
	// The same store as every other handler's.
	h.DeleteListWithClients = DeleteListWithClientsHandler{store: h.DeleteList.store, members: members}
	h.RestoreList = RestoreListHandler{store: h.DeleteList.store, matcher: matcher}
	return h
}

// maxConflictRetries bounds retries of commands whose intent does not
// depend on the version the caller saw (add to a list, delete without
// If-Match): re-deciding on fresh state is then what the user meant.
const maxConflictRetries = 5

// retryOnConflict reruns attempt while it loses a race for a stream. Only
// for commands that carry no expected version of their own.
func retryOnConflict[T any](ctx context.Context, attempt func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		res, err := attempt()
		if !errors.Is(err, domain.ErrConcurrencyConflict) || i == maxConflictRetries || ctx.Err() != nil {
			return res, err
		}
	}
}

// checkVersion enforces an optimistic-lock precondition (HTTP If-Match).
func checkVersion(agg domain.Aggregate, expected *int) error {
	if expected != nil && *expected != agg.Version() {
		return &domain.ConflictError{StreamID: agg.StreamID().String(), ExpectedVersion: *expected, CurrentVersion: agg.Version()}
	}
	return nil
}

// save appends agg's pending events and reports where its stream stands.
// Nothing pending (a change that changes nothing) appends nothing.
func save(ctx context.Context, store EventStore, origin domain.Origin, agg domain.Aggregate) (Result, error) {
	pending := len(agg.PendingEvents())
	res := Result{ID: agg.StreamID(), Version: agg.Version() + pending}
	if pending == 0 {
		return res, nil
	}
	pos, err := store.Save(ctx, origin, agg)
	if err != nil {
		return Result{}, err
	}
	res.Position = pos
	return res, nil
}

func loadClient(ctx context.Context, store EventStore, tenantID, id uuid.UUID) (*domain.Client, error) {
	c := domain.NewClient(id)
	if err := store.Load(ctx, tenantID, c); err != nil {
		return nil, err
	}
	if err := usable(c); err != nil {
		return nil, err
	}
	return c, nil
}

// loadClients folds many clients at once, in the order of ids; each one's
// usable tells whether it can be acted on.
func loadClients(ctx context.Context, store EventStore, tenantID uuid.UUID, ids []uuid.UUID) ([]*domain.Client, error) {
	clients := make([]*domain.Client, len(ids))
	aggs := make([]domain.Aggregate, len(ids))
	for i, id := range ids {
		clients[i] = domain.NewClient(id)
		aggs[i] = clients[i]
	}
	if err := store.Load(ctx, tenantID, aggs...); err != nil {
		return nil, err
	}
	return clients, nil
}

// usable refuses a client that was never registered or whose personal
// data is erased.
func usable(c *domain.Client) error {
	if c.Version() == 0 {
		return domain.ErrClientNotFound
	}
	if c.Erased() {
		return domain.ErrPersonalDataErased
	}
	return nil
}

func loadList(ctx context.Context, store EventStore, tenantID, id uuid.UUID) (*domain.List, error) {
	l := domain.NewList(id)
	if err := store.Load(ctx, tenantID, l); err != nil {
		return nil, err
	}
	if l.Version() == 0 {
		return nil, domain.ErrListNotFound
	}
	return l, nil
}

func loadCustomFields(ctx context.Context, store EventStore, tenantID uuid.UUID) (*domain.CustomFieldSet, error) {
	set := domain.NewCustomFieldSet(tenantID)
	if err := store.Load(ctx, tenantID, set); err != nil {
		return nil, err
	}
	return set, nil
}

// changeClient is the shape of most client commands: load, check the
// caller's version if given, decide, save; retried on a lost race only when
// the caller gave no version.
func changeClient(ctx context.Context, store EventStore, origin domain.Origin, id uuid.UUID, expected *int,
	decide func(*domain.Client) error) (Result, error) {
	return change(ctx, store, origin, expected, func() (*domain.Client, error) {
		return loadClient(ctx, store, origin.TenantID, id)
	}, decide)
}

// changeList is changeClient for lists.
func changeList(ctx context.Context, store EventStore, origin domain.Origin, id uuid.UUID, expected *int,
	decide func(*domain.List) error) (Result, error) {
	return change(ctx, store, origin, expected, func() (*domain.List, error) {
		return loadList(ctx, store, origin.TenantID, id)
	}, decide)
}

func change[A domain.Aggregate](ctx context.Context, store EventStore, origin domain.Origin, expected *int,
	load func() (A, error), decide func(A) error) (Result, error) {
	attempt := func() (Result, error) {
		agg, err := load()
		if err != nil {
			return Result{}, err
		}
		if err := checkVersion(agg, expected); err != nil {
			return Result{}, err
		}
		if err := decide(agg); err != nil {
			return Result{}, err
		}
		return save(ctx, store, origin, agg)
	}
	if expected != nil {
		return attempt()
	}
	return retryOnConflict(ctx, attempt)
}

// inBackground starts fn on another goroutine; the function it returns
// waits for fn's result.
func inBackground[T any](fn func() (T, error)) func() (T, error) {
	done := make(chan struct{})
	var v T
	var err error
	go func() {
		defer close(done)
		v, err = fn()
	}()
	return func() (T, error) {
		<-done
		return v, err
	}
}
