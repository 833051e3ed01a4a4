package eventlog_test

import (
	"context"
	"errors"
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
