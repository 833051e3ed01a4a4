package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// A registration is saved in one round trip; one whose email is taken
// names the client that holds it and leaves no trace: no event, no data
// key, no reservation of its own.
func TestRegistrationWithATakenEmailLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	h := commands.NewHandlers(store)

	first, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("marie@example.be")})
	if err != nil {
		t.Fatal(err)
	}
	if first.Position == 0 || first.Version != 1 {
		t.Fatalf("registered at position %d, version %d", first.Position, first.Version)
	}
	var head int64
	if err := pool.QueryRow(ctx, `SELECT max("offset") FROM events`).Scan(&head); err != nil || head != first.Position {
		t.Fatalf("the log ends at %d (%v); the save answered %d", head, err, first.Position)
	}

	_, err = h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("Marie@Example.be")})
	var de *domain.DuplicateError
	if !errors.As(err, &de) || de.Field != "email" || de.OwnerID != first.ID.String() {
		t.Fatalf("got %v, want the email taken by %s", err, first.ID)
	}
	var events, keys, reservations int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE stream_type = 'client'),
		(SELECT count(*) FROM subject_keys), (SELECT count(*) FROM reservations)`).Scan(&events, &keys, &reservations); err != nil {
		t.Fatal(err)
	}
	if events != 1 || keys != 1 || reservations != 1 {
		t.Fatalf("after the refused registration: %d client events, %d data keys, %d reservations; want 1 of each",
			events, keys, reservations)
	}
}

// Registrations made at the same moment are saved together; each still
// stands alone: two of one email in a tenant give one client and a refusal
// naming it, the same email in another tenant is not taken, every client
// reads back with its own data under its own key, and each answer's
// position is its own event's.
func TestConcurrentRegistrationsAreSavedTogetherEachOnItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	h := commands.NewHandlers(store)
	tenants := []domain.Origin{{TenantID: uuid.New(), Actor: "a"}, {TenantID: uuid.New(), Actor: "b"}}
	const n = 60
	type outcome struct {
		origin domain.Origin
		email  string
		res    commands.Result
		err    error
	}
	outcomes := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		// Each email is registered twice in each tenant.
		email := fmt.Sprintf("person%d@example.be", i/4)
		outcomes[i] = outcome{origin: tenants[i%2], email: email}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outcomes[i]
			o.res, o.err = h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: o.origin, Input: personInput(o.email)})
		}()
	}
	wg.Wait()

	registered := 0
	winners := map[string]string{} // tenant and email: the client holding it
	for _, o := range outcomes {
		if o.err != nil {
			continue
		}
		registered++
		key := o.origin.TenantID.String() + o.email
		if winners[key] != "" {
			t.Fatalf("%s registered twice in tenant %s", o.email, o.origin.TenantID)
		}
		winners[key] = o.res.ID.String()
		var position int64
		if err := pool.QueryRow(ctx, `SELECT "offset" FROM events WHERE stream_id = $1`, o.res.ID).Scan(&position); err != nil {
			t.Fatal(err)
		}
		if position != o.res.Position {
			t.Errorf("client %s answered position %d; its event is at %d", o.res.ID, o.res.Position, position)
		}
		c := domain.NewClient(o.res.ID)
		if err := store.Load(ctx, o.origin.TenantID, c); err != nil {
			t.Fatal(err)
		}
		if c.Version() != 1 || c.Detail(domain.FieldEmail) != o.email {
			t.Errorf("client %s reads back at version %d with email %q, want 1 and %q", o.res.ID, c.Version(), c.Detail(domain.FieldEmail), o.email)
		}
	}
	for _, o := range outcomes {
		if o.err == nil {
			continue
		}
		var de *domain.DuplicateError
		holder := winners[o.origin.TenantID.String()+o.email]
		if !errors.As(o.err, &de) || de.Field != "email" || de.OwnerID != holder {
			t.Errorf("%s in tenant %s: got %v, want the email taken by %s", o.email, o.origin.TenantID, o.err, holder)
		}
	}
	if registered != n/2 {
		t.Errorf("%d clients registered, want %d", registered, n/2)
	}
	var events, keys, reservations int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE stream_type = 'client'),
		(SELECT count(*) FROM subject_keys), (SELECT count(*) FROM reservations)`).Scan(&events, &keys, &reservations); err != nil {
		t.Fatal(err)
	}
	if events != registered || keys != registered || reservations != registered {
		t.Errorf("%d client events, %d data keys, %d reservations; want %d of each", events, keys, reservations, registered)
	}
}
