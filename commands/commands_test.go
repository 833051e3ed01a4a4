package commands

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// memStore is an EventStore in memory, with the contract the handlers rely
// on: a save at a version the stream has left is a conflict, and a unique
// value another live stream holds is a duplicate; either appends nothing.
type memStore struct {
	streams map[uuid.UUID][]domain.RecordedEvent
	owners  map[string]uuid.UUID // reserved unique value -> stream holding it
	pos     int64
	saves   int
	// beforeSave, when set, runs before each save decides: a concurrent
	// writer can slip an event in there.
	beforeSave func(s *memStore)
}

func newMemStore() *memStore {
	return &memStore{streams: map[uuid.UUID][]domain.RecordedEvent{}, owners: map[string]uuid.UUID{}}
}

func (s *memStore) Load(_ context.Context, tenantID uuid.UUID, aggs ...domain.Aggregate) error {
	for _, agg := range aggs {
		for _, e := range s.streams[agg.StreamID()] {
			if e.TenantID == tenantID {
				agg.Apply(e)
			}
		}
	}
	return nil
}

func (s *memStore) Save(_ context.Context, origin domain.Origin, aggs ...domain.Aggregate) (int64, error) {
	s.saves++
	if s.beforeSave != nil {
		hook := s.beforeSave
		s.beforeSave = nil // a writer races once
		hook(s)
	}
	for _, a := range aggs {
		if current := len(s.streams[a.StreamID()]); current != a.Version() {
			return 0, &domain.ConflictError{StreamID: a.StreamID().String(), ExpectedVersion: a.Version(), CurrentVersion: current}
		}
		for _, k := range a.UniqueKeys() {
			if owner, ok := s.owners[k.Kind+"\x00"+k.Value]; ok && owner != a.StreamID() {
				return 0, &domain.DuplicateError{Field: k.Field, OwnerID: owner.String()}
			}
		}
	}
	for _, a := range aggs {
		s.append(origin, a)
	}
	return s.pos, nil
}

func (s *memStore) SaveErasure(_ context.Context, origin domain.Origin, c *domain.Client, _ Erasure) (int64, error) {
	if current := len(s.streams[c.ID()]); current != c.Version() {
		return 0, &domain.ConflictError{StreamID: c.ID().String(), ExpectedVersion: c.Version(), CurrentVersion: current}
	}
	s.append(origin, c)
	return s.pos, nil
}

// append records a's pending events and moves its reservations to the
// values it now holds.
func (s *memStore) append(origin domain.Origin, a domain.Aggregate) {
	id := a.StreamID()
	for _, e := range a.PendingEvents() {
		s.pos++
		s.streams[id] = append(s.streams[id], domain.RecordedEvent{Event: e, Envelope: domain.Envelope{
			EventName: e.EventName(), SchemaVersion: e.SchemaVersion(), TenantID: origin.TenantID,
			StreamType: a.StreamType(), StreamID: id, StreamVersion: len(s.streams[id]) + 1, Position: s.pos,
		}})
	}
	for k, owner := range s.owners {
		if owner == id {
			delete(s.owners, k)
		}
	}
	for _, k := range a.UniqueKeys() {
		s.owners[k.Kind+"\x00"+k.Value] = id
	}
}

// names lists the names of a stream's events, in order.
func (s *memStore) names(id uuid.UUID) []string {
	var out []string
	for _, e := range s.streams[id] {
		out = append(out, e.EventName)
	}
	return out
}

// seed saves an aggregate built in the test as the stream's history.
func (s *memStore) seed(t *testing.T, tenant uuid.UUID, a domain.Aggregate) {
	t.Helper()
	if _, err := s.Save(context.Background(), domain.Origin{TenantID: tenant}, a); err != nil {
		t.Fatal(err)
	}
}

func TestRetryOnConflict(t *testing.T) {
	conflict := &domain.ConflictError{StreamID: "s", ExpectedVersion: 1, CurrentVersion: 2}
	other := errors.New("disk full")
	tests := []struct {
		name      string
		errs      []error // what each attempt returns; nil once it succeeds
		wantCalls int
		wantErr   error
	}{
		{"success first time", []error{nil}, 1, nil},
		{"conflict then success", []error{conflict, conflict, nil}, 3, nil},
		{"other error is not retried", []error{other, nil}, 1, other},
		{"duplicate is not retried", []error{&domain.DuplicateError{Field: "email"}, nil}, 1, domain.ErrDuplicate},
		{"wrapped conflict is retried", []error{errors.Join(errors.New("append"), conflict), nil}, 2, nil},
		{"gives up after its bound", slices.Repeat([]error{conflict}, 20), maxConflictRetries + 1, domain.ErrConcurrencyConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			res, err := retryOnConflict(context.Background(), func() (Result, error) {
				err := tt.errs[calls]
				calls++
				if err != nil {
					return Result{}, err
				}
				return Result{Version: calls}, nil
			})
			if calls != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && res.Version != calls {
				t.Errorf("result of attempt %d, want the last attempt's (%d)", res.Version, calls)
			}
		})
	}
}

func TestRetryOnConflictStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := retryOnConflict(ctx, func() (Result, error) {
		calls++
		cancel()
		return Result{}, &domain.ConflictError{}
	})
	if calls != 1 || !errors.Is(err, domain.ErrConcurrencyConflict) {
		t.Errorf("after cancel: %d attempts, err %v; want 1 attempt and the conflict", calls, err)
	}
}

func TestCheckVersion(t *testing.T) {
	c := domain.NewClient(uuid.New())
	for v := 1; v <= 3; v++ {
		c.Apply(domain.RecordedEvent{Envelope: domain.Envelope{StreamVersion: v}, Event: domain.ClientRestored{}})
	}
	ptr := func(v int) *int { return &v }
	tests := []struct {
		name     string
		expected *int
		conflict bool
	}{
		{"no precondition", nil, false},
		{"current version", ptr(3), false},
		{"stale version", ptr(2), true},
		{"future version", ptr(4), true},
		{"zero", ptr(0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkVersion(c, tt.expected)
			if !tt.conflict {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var ce *domain.ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, domain.ErrConcurrencyConflict) {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if ce.CurrentVersion != 3 || ce.ExpectedVersion != *tt.expected || ce.StreamID != c.ID().String() {
				t.Errorf("conflict = %+v, want stream %s at 3, expected %d", ce, c.ID(), *tt.expected)
			}
		})
	}
}

func person(email string) domain.ClientInput {
	return domain.ClientInput{Details: map[domain.Field]string{
		domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont", domain.FieldEmail: email, domain.FieldLanguage: "fr",
	}}
}

func TestRegisterClient(t *testing.T) {
	tenant := uuid.New()
	tests := []struct {
		name    string
		input   domain.ClientInput
		wantErr error
	}{
		{"new client", person("marie@example.be"), nil},
		{"email of a live client", person("Taken@Example.be"), domain.ErrDuplicate},
		{"email of a deleted client is free", person("gone@example.be"), nil},
		{"no email", domain.ClientInput{Details: map[domain.Field]string{domain.FieldLastName: "Dupont"}}, domain.ErrValidation},
		{"unknown custom field", func() domain.ClientInput {
			in := person("custom@example.be")
			in.CustomFields = map[string]string{"segment": "gold"}
			return in
		}(), domain.ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := newMemStore()
			taken, _ := domain.RegisterClient(uuid.New(), person("taken@example.be"), domain.NewCustomFieldSet(tenant))
			store.seed(t, tenant, taken)
			gone, _ := domain.RegisterClient(uuid.New(), person("gone@example.be"), domain.NewCustomFieldSet(tenant))
			if err := gone.Delete(""); err != nil {
				t.Fatal(err)
			}
			store.seed(t, tenant, gone)
			before := store.pos

			res, err := NewHandlers(store).RegisterClient.Handle(ctx, RegisterClient{Origin: domain.Origin{TenantID: tenant}, Input: tt.input})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if store.pos != before {
					t.Errorf("a refused registration appended %d events", store.pos-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := store.names(res.ID); !slices.Equal(got, []string{"ClientRegistered"}) {
				t.Errorf("stream = %v, want [ClientRegistered]", got)
			}
			if res.Version != 1 || res.Position != store.pos {
				t.Errorf("result = %+v, want version 1 at position %d", res, store.pos)
			}
			ev := store.streams[res.ID][0].Event.(domain.ClientRegistered)
			if ev.Details[domain.FieldKind] != domain.KindPerson || ev.Details[domain.FieldEmail] != tt.input.Details[domain.FieldEmail] {
				t.Errorf("registered %v, want a person with the given email", ev.Details)
			}
		})
	}
}

func TestChangeClientDetails(t *testing.T) {
	tenant := uuid.New()
	origin := domain.Origin{TenantID: tenant}
	tests := []struct {
		name     string
		expected int
		change   map[domain.Field]string
		wantErr  error
		wantNew  []string // events appended
		wantCity string
	}{
		{"current version", 2, map[domain.Field]string{domain.FieldCity: "Liège"}, nil, []string{"ClientDetailsChanged"}, "Liège"},
		{"stale version", 1, map[domain.Field]string{domain.FieldCity: "Liège"}, domain.ErrConcurrencyConflict, nil, "Namur"},
		{"nothing changes", 2, map[domain.Field]string{domain.FieldCity: "Namur"}, nil, nil, "Namur"},
		{"invalid email", 2, map[domain.Field]string{domain.FieldEmail: "not an email"}, domain.ErrValidation, nil, "Namur"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := newMemStore()
			c, err := domain.RegisterClient(uuid.New(), person("marie@example.be"), domain.NewCustomFieldSet(tenant))
			if err != nil {
				t.Fatal(err)
			}
			store.seed(t, tenant, c)
			c2 := foldClient(c.ID(), store.streams[c.ID()])
			if err := c2.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Namur"}}, nil); err != nil {
				t.Fatal(err)
			}
			store.seed(t, tenant, c2)

			res, err := NewHandlers(store).ChangeClientDetails.Handle(ctx, ChangeClientDetails{Origin: origin, ClientID: c.ID(),
				ExpectedVersion: tt.expected, Input: domain.ClientInput{Details: tt.change}})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := store.names(c.ID())[2:]; !slices.Equal(got, tt.wantNew) {
				t.Errorf("appended %v, want %v", got, tt.wantNew)
			}
			if city := foldClient(c.ID(), store.streams[c.ID()]).Detail(domain.FieldCity); city != tt.wantCity {
				t.Errorf("city = %q, want %q", city, tt.wantCity)
			}
			if err == nil && res.Version != 2+len(tt.wantNew) {
				t.Errorf("result version = %d, want %d", res.Version, 2+len(tt.wantNew))
			}
		})
	}
}

func TestDeleteClient(t *testing.T) {
	tenant := uuid.New()
	origin := domain.Origin{TenantID: tenant}
	ptr := func(v int) *int { return &v }
	erpRef := domain.ExternalRef{Source: domain.SourceName(domain.ProviderERP), ExternalID: "K-1"}
	details := map[domain.Field]string{domain.FieldKind: domain.KindPerson, domain.FieldLastName: "Dupont",
		domain.FieldEmail: "erp@example.be"}
	tests := []struct {
		name     string
		client   func() *domain.Client // its history, saved before the command
		expected *int
		race     bool // another writer appends to the stream before the first save
		wantErr  error
		wantLast string // the stream's last event afterwards
	}{
		{"by hand", func() *domain.Client {
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			return c
		}, nil, false, nil, "ClientDeleted"},
		{"managed by the ERP", func() *domain.Client {
			c, _ := domain.RegisterFromSource(uuid.New(), erpRef, details)
			return c
		}, nil, false, domain.ErrManagedBySource, "ClientRegistered"},
		{"removed at the ERP: the office's again", func() *domain.Client {
			c, _ := domain.RegisterFromSource(uuid.New(), erpRef, details)
			c.RemoveAtSource(erpRef.Source, erpRef.ExternalID)
			return c
		}, nil, false, nil, "ClientDeleted"},
		{"already deleted", func() *domain.Client {
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			_ = c.Delete("")
			return c
		}, nil, false, domain.ErrClientDeleted, "ClientDeleted"},
		{"stale If-Match", func() *domain.Client {
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			return c
		}, ptr(0), false, domain.ErrConcurrencyConflict, "ClientRegistered"},
		{"lost race without If-Match is decided again", func() *domain.Client {
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			return c
		}, nil, true, nil, "ClientDeleted"},
		{"lost race with If-Match is a conflict", func() *domain.Client {
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			return c
		}, ptr(1), true, domain.ErrConcurrencyConflict, "ClientDetailsChanged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			c := tt.client()
			store.seed(t, tenant, c)
			if tt.race {
				store.beforeSave = func(s *memStore) {
					other := foldClient(c.ID(), s.streams[c.ID()])
					_ = other.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Namur"}}, nil)
					s.append(origin, other)
				}
			}
			_, err := NewHandlers(store).DeleteClient.Handle(context.Background(), DeleteClient{Origin: origin, ClientID: c.ID(),
				ExpectedVersion: tt.expected})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			names := store.names(c.ID())
			if last := names[len(names)-1]; last != tt.wantLast {
				t.Errorf("stream %v ends with %s, want %s", names, last, tt.wantLast)
			}
			if n := slices.Index(names, "ClientDeleted"); n >= 0 && slices.Contains(names[n+1:], "ClientDeleted") {
				t.Errorf("deleted twice: %v", names)
			}
		})
	}
}

func TestAddClientToList(t *testing.T) {
	tenant := uuid.New()
	origin := domain.Origin{TenantID: tenant}
	tests := []struct {
		name       string
		listExists bool
		deleted    bool
		already    bool
		wantErr    error
		wantLists  int
	}{
		{"on a list", true, false, false, nil, 1},
		{"already on it", true, false, true, nil, 1},
		{"deleted list", true, true, false, domain.ErrListDeleted, 0},
		{"unknown list", false, false, false, domain.ErrListNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			list, err := domain.CreateList(uuid.New(), "Newsletter")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
			if tt.already {
				_ = c.AddToList(list)
			}
			if tt.listExists {
				if tt.deleted {
					_ = list.Delete()
				}
				store.seed(t, tenant, list)
			}
			store.seed(t, tenant, c)
			before := len(store.streams[c.ID()])

			_, err = NewHandlers(store).AddClientToList.Handle(context.Background(), AddClientToList{Origin: origin,
				ClientID: c.ID(), ListID: list.ID()})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			after := foldClient(c.ID(), store.streams[c.ID()])
			if got := len(after.Lists()); got != tt.wantLists {
				t.Errorf("on %d lists, want %d", got, tt.wantLists)
			}
			if tt.already && len(store.streams[c.ID()]) != before {
				t.Errorf("adding again appended %v", store.names(c.ID())[before:])
			}
		})
	}
}

func TestLoadClientRefusesMissingAndErased(t *testing.T) {
	tenant := uuid.New()
	store := newMemStore()
	erased, _ := domain.RegisterClient(uuid.New(), person("a@example.be"), nil)
	store.seed(t, tenant, erased)
	e := foldClient(erased.ID(), store.streams[erased.ID()])
	if err := e.Erase("GDPR-1"); err != nil {
		t.Fatal(err)
	}
	store.seed(t, tenant, e)
	tests := []struct {
		name    string
		tenant  uuid.UUID
		id      uuid.UUID
		wantErr error
	}{
		{"unknown id", tenant, uuid.New(), domain.ErrClientNotFound},
		{"another tenant's client", uuid.New(), erased.ID(), domain.ErrClientNotFound},
		{"erased", tenant, erased.ID(), domain.ErrPersonalDataErased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHandlers(store).RestoreClient.Handle(context.Background(), RestoreClient{
				Origin: domain.Origin{TenantID: tt.tenant}, ClientID: tt.id})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
