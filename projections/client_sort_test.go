package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Every order pages through every client exactly once, in its order, with
// pages of two.
func TestClientSearchSortsAndPagesInEveryOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tenant := uuid.New()
	names := []string{"Claes", "Adams", "Engels", "Bosmans", "Dubois"}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var events []domain.RecordedEvent
	for i, name := range names {
		c, err := domain.RegisterClient(uuid.New(), domain.ClientInput{Details: map[domain.Field]string{
			domain.FieldFirstName: "Jo", domain.FieldLastName: name, domain.FieldEmail: fmt.Sprintf("jo%d@example.be", i)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for v, e := range c.PendingEvents() {
			events = append(events, domain.RecordedEvent{Event: e, Envelope: domain.Envelope{
				EventID: uuid.New(), EventName: e.EventName(), TenantID: tenant, StreamType: domain.StreamClient,
				StreamID: c.ID(), StreamVersion: v + 1, Position: int64(len(events) + 1), Actor: "test",
				// Registered in this order, so updated in it too.
				OccurredAt: at.Add(time.Duration(i) * time.Minute)}})
		}
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return (projections.Clients{}).Apply(ctx, tx, events)
	}); err != nil {
		t.Fatal(err)
	}
	byName := slices.Sorted(slices.Values(names))
	want := map[string][]string{
		"name": byName, "-name": reversed(byName),
		"updated": names, "-updated": reversed(names),
	}
	q := projections.NewQueries(pool)
	for _, sort := range projections.ClientSorts {
		var got []string
		cursor := ""
		for range 10 {
			page, err := q.SearchClients(ctx, tenant, projections.ClientFilter{Sort: sort, Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatalf("%s: %v", sort, err)
			}
			for _, c := range page.Items {
				got = append(got, c.LastName)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
			if sort == "name" {
				// A cursor belongs to its order.
				if _, err := q.SearchClients(ctx, tenant, projections.ClientFilter{Sort: "-updated", Cursor: cursor}); !errors.Is(err, projections.ErrInvalidCursor) {
					t.Errorf("a name cursor in the update order: %v", err)
				}
			}
		}
		if !slices.Equal(got, want[sort]) {
			t.Errorf("sort %s pages %v, want %v", sort, got, want[sort])
		}
	}
	if _, err := q.SearchClients(ctx, tenant, projections.ClientFilter{Sort: "email"}); !errors.Is(err, projections.ErrInvalidSort) {
		t.Errorf("unknown sort: %v", err)
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
