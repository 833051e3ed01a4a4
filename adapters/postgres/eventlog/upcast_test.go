package eventlog_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// clientDeletedV1 is ClientDeleted as the code before v2 wrote it: one
// personal "reason" for a person's note and for the undo marker alike.
type clientDeletedV1 struct {
	Reason string `json:"reason,omitempty"`
}

func (clientDeletedV1) EventName() string        { return "ClientDeleted" }
func (clientDeletedV1) SchemaVersion() int       { return 1 }
func (clientDeletedV1) PersonalFields() []string { return []string{"reason"} }

// oldCode appends events the way an older build did, on an existing stream.
type oldCode struct {
	id      uuid.UUID
	version int
	pending []domain.Event
}

func (o *oldCode) StreamType() string             { return domain.StreamClient }
func (o *oldCode) StreamID() uuid.UUID            { return o.id }
func (o *oldCode) Version() int                   { return o.version }
func (o *oldCode) PendingEvents() []domain.Event  { return o.pending }
func (o *oldCode) UniqueKeys() []domain.UniqueKey { return nil }
func (o *oldCode) Apply(domain.RecordedEvent)     {}

func TestV1ClientDeletedIsReadInTheCurrentShape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	h := commands.NewHandlers(store)
	var ids []uuid.UUID
	for _, email := range []string{"by.hand@example.com", "by.undo@example.com"} {
		res, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(email)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	for i, reason := range []string{"moved abroad", "import_undone"} {
		old := &oldCode{id: ids[i], version: 1, pending: []domain.Event{clientDeletedV1{Reason: reason}}}
		if _, err := store.Save(ctx, origin, old); err != nil {
			t.Fatal(err)
		}
	}

	want := []domain.ClientDeleted{{Cause: domain.DeletedByHand, Reason: "moved abroad"}, {Cause: domain.DeletedByUndo}}
	for i, id := range ids {
		events, err := store.ReadStream(ctx, origin.TenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := events[1].Event.(domain.ClientDeleted)
		if !ok || got != want[i] || events[1].SchemaVersion != 1 {
			t.Errorf("stored v1 read back as %#v (stored version %d), want %#v", events[1].Event, events[1].SchemaVersion, want[i])
		}
		c := domain.NewClient(id)
		if err := store.Load(ctx, origin.TenantID, c); err != nil || !c.Deleted() {
			t.Errorf("client with a v1 deletion: deleted %v, %v", c.Deleted(), err)
		}
		if err := c.Restore(); err != nil {
			t.Errorf("restore after a v1 deletion: %v", err)
		}
	}
	// New deletions are written as v2.
	if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: ids[0]}); err == nil {
		t.Error("deleting a deleted client succeeded")
	}
	if _, err := h.RestoreClient.Handle(ctx, commands.RestoreClient{Origin: origin, ClientID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: ids[0], Reason: "again"}); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(ctx, origin.TenantID, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.SchemaVersion != 2 || last.Event != (domain.ClientDeleted{Cause: domain.DeletedByHand, Reason: "again"}) {
		t.Errorf("new deletion stored as v%d: %#v", last.SchemaVersion, last.Event)
	}
}
