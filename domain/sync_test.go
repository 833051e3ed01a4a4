package domain

import (
	"errors"
	"testing"

	"github.com/google/uuid"
)

func TestSyncFromSourceRecordsOnlyRealChanges(t *testing.T) {
	h := &history{}
	ref := ExternalRef{Source: "adminpulse", ExternalID: "R1"}
	details, dropped := SourceDetails(map[Field]string{FieldEmail: "an@example.be", FieldLastName: "Peeters",
		FieldLanguage: "Nederlands", FieldPhone: "+32 9 123 45 67"})
	if len(dropped) != 1 || dropped[0] != "language" || details[FieldKind] != KindPerson {
		t.Fatalf("details %v, dropped %v", details, dropped)
	}
	c, err := RegisterFromSource(uuid.New(), ref, details)
	if err != nil {
		t.Fatal(err)
	}
	c = h.fold(c)
	// The same record again records nothing; an empty value leaves the registry's.
	same := map[Field]string{FieldEmail: "an@example.be", FieldLastName: "Peeters", FieldPhone: ""}
	if err := c.SyncFromSource(ref, same); err != nil || len(c.PendingEvents()) != 0 {
		t.Fatalf("unchanged record: %v %v", err, c.PendingEvents())
	}
	if err := c.SyncFromSource(ref, map[Field]string{FieldLastName: "Peeters-Maes"}); err != nil {
		t.Fatal(err)
	}
	if ev, ok := c.PendingEvents()[0].(ClientDetailsChanged); !ok || len(ev.Changes) != 1 || ev.Changes[FieldLastName] != "Peeters-Maes" {
		t.Fatalf("change: %v", c.PendingEvents())
	}
	// Another record of the same source cannot take this client.
	other := ExternalRef{Source: "adminpulse", ExternalID: "R2"}
	if err := c.SyncFromSource(other, same); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second record of one source: %v", err)
	}
}

func TestRemovedAtSourceAndBack(t *testing.T) {
	h := &history{}
	ref := ExternalRef{Source: "erp", ExternalID: "K1"}
	c := h.fold(must(RegisterFromSource(uuid.New(), ref, map[Field]string{FieldKind: KindPerson, FieldEmail: "k@example.be"})))
	c.RemoveAtSource("erp", "K1")
	c = h.fold(c)
	if !c.RemovedAtSource("erp") || c.Deleted() {
		t.Fatal("removed at source must flag, not delete")
	}
	c.RemoveAtSource("erp", "K1")
	if len(c.PendingEvents()) != 0 {
		t.Fatal("flagged twice")
	}
	if err := c.SyncFromSource(ref, map[Field]string{FieldEmail: "k@example.be"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PendingEvents()[0].(ClientRestoredAtSource); !ok || len(c.PendingEvents()) != 1 {
		t.Fatalf("back at source: %v", c.PendingEvents())
	}
}

func TestRegisterFromSourceNeedsAnEmail(t *testing.T) {
	_, err := RegisterFromSource(uuid.New(), ExternalRef{Source: "adminpulse", ExternalID: "R9"}, map[Field]string{FieldKind: KindPerson})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("no email: %v", err)
	}
}

func TestConnectionLifecycle(t *testing.T) {
	if _, err := RequestConnection(uuid.New(), "salesforce", ""); !errors.Is(err, ErrValidation) {
		t.Fatalf("unknown provider: %v", err)
	}
	if _, err := RequestConnection(uuid.New(), ProviderAdminIS, "ftp://x"); !errors.Is(err, ErrValidation) {
		t.Fatalf("bad base URL: %v", err)
	}
	c, err := RequestConnection(uuid.New(), ProviderAdminPulse, "")
	if err != nil || c.Status() != ConnectionPending {
		t.Fatal(err, c.Status())
	}
	if err := c.StartSync(uuid.New(), "manual"); !errors.Is(err, ErrConnectionNotActive) {
		t.Fatalf("sync before consent: %v", err)
	}
	if err := c.Authorize(); err != nil || c.Status() != ConnectionActive {
		t.Fatal(err)
	}
	run := uuid.New()
	if err := c.StartSync(run, "connect"); err != nil {
		t.Fatal(err)
	}
	c.FailSync(run, "could not reach AdminPulse", SyncCounts{Unchanged: 400}, nil)
	if r := c.LastRun(); r.Status != SyncFailedRun || r.Counts.Unchanged != 400 || c.LastError() != "could not reach AdminPulse" {
		t.Fatalf("last run %+v", r)
	}
	if err := c.Revoke(); err != nil {
		t.Fatal(err)
	}
	if err := c.StartSync(uuid.New(), "manual"); !errors.Is(err, ErrConnectionRevoked) {
		t.Fatalf("sync after revoke: %v", err)
	}
	erp, _ := RequestConnection(uuid.New(), ProviderERP, "")
	if err := erp.StartSync(uuid.New(), "manual"); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("ERP sync: %v", err)
	}
}

func TestAppAccess(t *testing.T) {
	h := &history{}
	c := h.fold(must(RegisterFromSource(uuid.New(), ExternalRef{Source: "erp", ExternalID: "1"}, map[Field]string{FieldKind: KindPerson, FieldEmail: "a@example.be"})))
	if c.AccessStatus() != AccessNotInvited {
		t.Fatal(c.AccessStatus())
	}
	if err := c.ValidateAccess(); !errors.Is(err, ErrNoAppRegistration) {
		t.Fatal(err)
	}
	_ = c.Invite()
	_ = c.RegisterAppUser(uuid.New(), "A@example.be", "phone")
	if c.AccessStatus() != AccessRegistered {
		t.Fatal(c.AccessStatus())
	}
	c = h.fold(c)
	if err := c.RegisterAppUser(uuid.New(), "a@EXAMPLE.be", "phone"); err != nil || len(c.PendingEvents()) != 0 {
		t.Fatal("registering twice records twice")
	}
	_ = c.ValidateAccess()
	if c.AccessStatus() != AccessValidated {
		t.Fatal(c.AccessStatus())
	}
}

func must(c *Client, err error) *Client {
	if err != nil {
		panic(err)
	}
	return c
}

// history replays a client's events as if read back from the log.
type history struct{ events []Event }

func (h *history) fold(c *Client) *Client {
	h.events = append(h.events, c.PendingEvents()...)
	out := NewClient(c.ID())
	for i, e := range h.events {
		out.Apply(RecordedEvent{Envelope: Envelope{StreamVersion: i + 1}, Event: e})
	}
	return out
}
