package postgres_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// countedClients is the clients projection plus a ledger with one row per
// applied event: applying an event twice violates the ledger's key.
type countedClients struct {
	projections.Clients
	// killAt, when positive, kills the subscriber's connection when the
	// killAt-th event is applied, mid-batch, like a crashed process would.
	killAt  int64
	applied *atomic.Int64
}

func (c countedClients) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	if err := c.ledger(ctx, tx, events); err != nil {
		return err
	}
	if err := c.Clients.Apply(ctx, tx, events); err != nil {
		return err
	}
	n := c.applied.Add(int64(len(events)))
	if c.killAt > 0 && n >= c.killAt && n-int64(len(events)) < c.killAt {
		_, _ = tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
		return fmt.Errorf("killed")
	}
	return nil
}

// ledger records the events as applied, in the projection's transaction.
func (c countedClients) ledger(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	positions := make([]int64, len(events))
	for i, e := range events {
		positions[i] = e.Position
	}
	_, err := tx.Exec(ctx, `INSERT INTO applied_ledger (position) SELECT unnest($1::bigint[])`, positions)
	return err
}

func TestProjectorKilledMidBatchResumesWithoutLossOrDoubleApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	keys := testKeyring(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE applied_ledger (position BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}

	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	h := commands.NewHandlers(store)
	var ids []uuid.UUID
	for i := range 60 {
		res, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(fmt.Sprintf("c%d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
		if i%3 == 0 {
			v := res.Version
			if _, err := h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: origin, ClientID: res.ID, ExpectedVersion: v,
				Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Gent", domain.FieldLanguage: "nl"}}}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: res.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		t.Fatal(err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	applied := &atomic.Int64{}
	cfg := postgres.ProjectorConfig{BatchSize: 25, PollInterval: 10 * time.Millisecond}
	crashing := postgres.NewProjector(pool, keys, countedClients{killAt: 37, applied: applied}, cfg, logger)
	if err := crashing.Run(ctx); err == nil {
		t.Fatal("the killed projector should stop with an error")
	}

	// Restart, as serve's supervisor does, and let it catch up.
	restarted := postgres.NewProjector(pool, keys, countedClients{applied: applied}, cfg, logger)
	stop := inBackground(restarted.Run)
	waitFor(t, func() bool {
		var n int64
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM applied_ledger`).Scan(&n)
		return n == total
	})
	if err := stop(); err != nil {
		t.Fatalf("restarted projector: %v", err)
	}

	var failures int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM projection_failures`).Scan(&failures); err != nil || failures != 0 {
		t.Fatalf("events set aside = %d (%v): an event was applied twice or failed", failures, err)
	}
	assertReadModelMatchesLog(t, pool, store, origin.TenantID, ids)
}

// assertReadModelMatchesLog folds each stream from the log and compares it
// with the clients read model: details, status, lists and contact persons.
func assertReadModelMatchesLog(t *testing.T, pool *pgxpool.Pool, store *eventlog.EventStore, tenantID uuid.UUID, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	reads := postgres.NewReadModels(pool)
	for _, id := range ids {
		c := domain.NewClient(id)
		if err := store.Load(ctx, tenantID, c); err != nil {
			t.Fatal(err)
		}
		view, err := reads.Client(ctx, tenantID, id)
		if err != nil {
			t.Fatalf("client %s missing from read model: %v", id, err)
		}
		wantStatus := "active"
		switch {
		case c.Erased():
			wantStatus = "erased"
		case c.Deleted():
			wantStatus = "deleted"
		}
		got := map[string]string{"version": fmt.Sprint(view.Version), "status": view.Status, "email": view.Email,
			"city": view.Address.City, "language": view.Language, "last_name": view.LastName}
		want := map[string]string{"version": fmt.Sprint(c.Version()), "status": wantStatus, "email": c.Detail(domain.FieldEmail),
			"city": c.Detail(domain.FieldCity), "language": c.Detail(domain.FieldLanguage), "last_name": c.Detail(domain.FieldLastName)}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("client %s %s: read model %q, log %q", id, k, got[k], want[k])
			}
		}
		if !slices.Equal(view.Lists, c.Lists()) {
			t.Errorf("client %s lists: read model %v, log %v", id, view.Lists, c.Lists())
		}
		if len(view.ContactPersons) != len(c.ContactIDs()) {
			t.Errorf("client %s: read model has %d contact persons, log %d", id, len(view.ContactPersons), len(c.ContactIDs()))
		}
	}
}

// inBackground runs run until stop is called; stop returns how it ended.
func inBackground(run func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testMasterKey is a fixed key for tests only.
var testMasterKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func newStore(t *testing.T) (*eventlog.EventStore, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	return eventlog.NewEventStore(pool, testKeyring(t), nil), pool
}

func personInput(email string) domain.ClientInput {
	return domain.ClientInput{Details: map[domain.Field]string{
		domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont", domain.FieldEmail: email,
	}}
}

func testKeyring(t *testing.T) *eventlog.Keyring {
	t.Helper()
	key, _ := eventlog.ParseMasterKey(testMasterKey)
	keys, err := eventlog.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// poisoned fails on one event, every time.
type poisoned struct {
	projections.Clients
	bad int64
}

func (p poisoned) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	for _, e := range events {
		if e.Position == p.bad {
			// A statement error aborts the transaction; the savepoint must
			// contain it so the rest of the batch still commits.
			_, err := tx.Exec(ctx, `SELECT 1/0`)
			return err
		}
	}
	return p.Clients.Apply(ctx, tx, events)
}

func TestProjectorSetsAsideAnEventItCannotApplyAndMovesOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	h := commands.NewHandlers(store)
	var last commands.Result
	for i := range 5 {
		var err error
		if last, err = h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(fmt.Sprintf("p%d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	p := postgres.NewProjector(pool, testKeyring(t), poisoned{bad: 3}, postgres.ProjectorConfig{PollInterval: 10 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = p.Run(runCtx) }()
	reads := postgres.NewReadModels(pool)
	if err := reads.WaitForPosition(ctx, origin.TenantID, last.Position, []string{"clients"}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var n int
	var failedAt int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_clients), (SELECT event_offset FROM projection_failures WHERE projection = 'clients')`).Scan(&n, &failedAt); err != nil {
		t.Fatal(err)
	}
	if n != 4 || failedAt != 3 || p.Failures() != 1 {
		t.Fatalf("clients projected = %d, set aside at %d, failures metric %d; want 4, 3, 1", n, failedAt, p.Failures())
	}
}

// probe is the clients projection recording the size of every Apply call;
// before, when set, runs first and may fail the call.
type probe struct {
	projections.Clients
	before func(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error
	mu     sync.Mutex
	calls  []int
}

func (p *probe) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	p.mu.Lock()
	p.calls = append(p.calls, len(events))
	p.mu.Unlock()
	if p.before != nil {
		if err := p.before(ctx, tx, events); err != nil {
			return err
		}
	}
	return p.Clients.Apply(ctx, tx, events)
}

func (p *probe) callSizes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// waitUntilReadable waits until subscribers can read every event: they
// read only below the oldest transaction still running on the server
// (other tests' included), so a batch could otherwise stop short.
func waitUntilReadable(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	waitFor(t, func() bool {
		var ok bool
		_ = pool.QueryRow(context.Background(),
			`SELECT coalesce(max(transaction_id) < pg_snapshot_xmin(pg_current_snapshot()), true) FROM events`).Scan(&ok)
		return ok
	})
}

// project runs a projector until it has applied the tenant's event at
// position, then stops it gracefully.
func project(t *testing.T, pool *pgxpool.Pool, p projections.Projection, cfg postgres.ProjectorConfig, tenantID uuid.UUID, position int64) *postgres.Projector {
	t.Helper()
	ctx := context.Background()
	cfg.PollInterval = 10 * time.Millisecond
	projector := postgres.NewProjector(pool, testKeyring(t), p, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stop := inBackground(projector.Run)
	err := postgres.NewReadModels(pool).WaitForPosition(ctx, tenantID, position, []string{p.Name()}, 15*time.Second)
	if runErr := stop(); runErr != nil {
		t.Fatalf("projector: %v", runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return projector
}

// clientRows is the whole clients read model, every column, as JSON.
func clientRows(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var rows string
	if err := pool.QueryRow(context.Background(),
		`SELECT coalesce(json_agg(c ORDER BY tenant_id, id), '[]')::text FROM rm_clients c`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func resetClientsReadModel(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `TRUNCATE rm_clients; DELETE FROM events_offsets`); err != nil {
		t.Fatal(err)
	}
}

// history records commands and remembers where each stream stands.
type history struct {
	t        *testing.T
	h        commands.Handlers
	versions map[uuid.UUID]int
	last     commands.Result
	lastOf   uuid.UUID // tenant of the last command
}

// in records the result of a command of the tenant:
// s.in(tenant)(handler.Handle(...)).
func (s *history) in(tenantID uuid.UUID) func(commands.Result, error) commands.Result {
	return func(res commands.Result, err error) commands.Result {
		s.t.Helper()
		if err != nil {
			s.t.Fatal(err)
		}
		s.versions[res.ID], s.last, s.lastOf = res.Version, res, tenantID
		return res
	}
}

func TestProjectorBatchGivesTheRowsOfOneEventAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	s := &history{t: t, h: commands.NewHandlers(store), versions: map[uuid.UUID]int{}}
	// Two tenants whose commands alternate: one batch holds both, and the
	// events of each client are spread over it.
	tenants := []domain.Origin{{TenantID: uuid.New(), Actor: "test"}, {TenantID: uuid.New(), Actor: "test"}}
	lists := map[uuid.UUID][2]uuid.UUID{}
	clients := map[uuid.UUID][]uuid.UUID{}
	for _, o := range tenants {
		l1 := s.in(o.TenantID)(s.h.CreateList.Handle(ctx, commands.CreateList{Origin: o, Name: "Newsletter"}))
		l2 := s.in(o.TenantID)(s.h.CreateList.Handle(ctx, commands.CreateList{Origin: o, Name: "Events"}))
		lists[o.TenantID] = [2]uuid.UUID{l1.ID, l2.ID}
	}
	for i := range 5 {
		for _, o := range tenants {
			res := s.in(o.TenantID)(s.h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: o,
				Input: personInput(fmt.Sprintf("c%d-%s@example.com", i, o.TenantID))}))
			clients[o.TenantID] = append(clients[o.TenantID], res.ID)
		}
	}
	for _, o := range tenants {
		c, l := clients[o.TenantID], lists[o.TenantID]
		for _, id := range c {
			s.in(o.TenantID)(s.h.AddClientToList.Handle(ctx, commands.AddClientToList{Origin: o, ClientID: id, ListID: l[0]}))
		}
		s.in(o.TenantID)(s.h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: o, ClientID: c[0],
			ExpectedVersion: s.versions[c[0]], Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Gent"}}}))
		s.in(o.TenantID)(s.h.AddClientToList.Handle(ctx, commands.AddClientToList{Origin: o, ClientID: c[1], ListID: l[1]}))
		s.in(o.TenantID)(s.h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: o, ClientID: c[1]}))
		s.in(o.TenantID)(s.h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: o, ClientID: c[2]}))
		s.in(o.TenantID)(s.h.RemoveClientFromList.Handle(ctx, commands.RemoveClientFromList{Origin: o, ClientID: c[3], ListID: l[0]}))
		res, contact, err := s.h.AddContactPerson.Handle(ctx, commands.AddContactPerson{Origin: o, ClientID: c[3],
			Details: map[string]string{"first_name": "Jan", "role": "boekhouder"}})
		s.in(o.TenantID)(res, err)
		s.in(o.TenantID)(s.h.ChangeContactPerson.Handle(ctx, commands.ChangeContactPerson{Origin: o, ClientID: c[3], ContactID: contact,
			Details: map[string]string{"role": "zaakvoerder"}}))
	}
	// Two imports touch the same clients within the batch.
	o := tenants[0]
	importA, importB := o, o
	importA.ImportID, importB.ImportID = uuid.New(), uuid.New()
	imported := s.in(o.TenantID)(s.h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: importA, Input: personInput("imported@example.com")})).ID
	clients[o.TenantID] = append(clients[o.TenantID], imported)
	for i, imp := range []domain.Origin{importA, importB} {
		for _, id := range []uuid.UUID{imported, clients[o.TenantID][4]} {
			s.in(o.TenantID)(s.h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: imp, ClientID: id, ExpectedVersion: s.versions[id],
				Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldPhone: fmt.Sprintf("+32 470 12 34 5%d", i)}}}))
		}
	}
	// One client's whole life in a row: register, change, delete, restore,
	// change again, add to a list.
	l := lists[o.TenantID]
	res := s.in(o.TenantID)(s.h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: o, Input: personInput("whole-life@example.com")}))
	id := res.ID
	clients[o.TenantID] = append(clients[o.TenantID], id)
	s.in(o.TenantID)(s.h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: o, ClientID: id, ExpectedVersion: s.versions[id],
		Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldLanguage: "nl", domain.FieldCity: "Brugge"}}}))
	s.in(o.TenantID)(s.h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: o, ClientID: id, Reason: "dubbel"}))
	s.in(o.TenantID)(s.h.RestoreClient.Handle(ctx, commands.RestoreClient{Origin: o, ClientID: id}))
	s.in(o.TenantID)(s.h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: o, ClientID: id, ExpectedVersion: s.versions[id],
		Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Oostende"}}}))
	s.in(o.TenantID)(s.h.AddClientToList.Handle(ctx, commands.AddClientToList{Origin: o, ClientID: id, ListID: l[1]}))
	// A client with every other kind of event (from sources, from its app,
	// by hand), and one erased, each saved in one append.
	every, gone := clientWithEveryEvent(t), erasedClient(t)
	position, err := store.Save(ctx, o, every, gone)
	if err != nil {
		t.Fatal(err)
	}
	s.last.Position, s.lastOf = position, o.TenantID
	clients[o.TenantID] = append(clients[o.TenantID], every.ID(), gone.ID())
	// An erased client: its registration decodes without personal data.
	erased := clients[tenants[1].TenantID][4]
	if _, err := pool.Exec(ctx, `DELETE FROM subject_keys WHERE subject_id = $1`, erased); err != nil {
		t.Fatal(err)
	}
	var clientEvents int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_type = 'client'`).Scan(&clientEvents); err != nil {
		t.Fatal(err)
	}

	waitUntilReadable(t, pool) // the whole log in one batch
	batched := &probe{}
	project(t, pool, batched, postgres.ProjectorConfig{}, s.lastOf, s.last.Position)
	if calls := batched.callSizes(); len(calls) != 1 || calls[0] != clientEvents {
		t.Fatalf("Apply calls %v; want one call with all %d client events", calls, clientEvents)
	}
	inBatch := clientRows(t, pool)
	for _, id := range []uuid.UUID{imported, clients[o.TenantID][4]} {
		var links []uuid.UUID
		if err := pool.QueryRow(ctx, `SELECT import_ids FROM rm_clients WHERE id = $1`, id).Scan(&links); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(links, []uuid.UUID{importA.ImportID, importB.ImportID}) {
			t.Errorf("client %s linked to imports %v; want %v", id, links, []uuid.UUID{importA.ImportID, importB.ImportID})
		}
	}
	for _, o := range tenants {
		assertReadModelMatchesLog(t, pool, store, o.TenantID, clients[o.TenantID])
	}

	resetClientsReadModel(t, pool)
	single := &probe{}
	project(t, pool, single, postgres.ProjectorConfig{BatchSize: 1}, s.lastOf, s.last.Position)
	if calls := single.callSizes(); len(calls) != clientEvents || slices.Max(calls) != 1 {
		t.Fatalf("Apply calls %v; want %d calls of one event", calls, clientEvents)
	}
	if oneByOne := clientRows(t, pool); oneByOne != inBatch {
		t.Fatalf("read model differs:\nin one batch: %s\none by one:   %s", inBatch, oneByOne)
	}

	// A rebuild copies the clients it meets whole into its fresh table,
	// then updates the others: the whole log in one batch, then in batches
	// that cut through clients' streams.
	for _, size := range []int{5000, 7} {
		rebuilder := postgres.NewRebuilder(pool, testKeyring(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
		rebuilder.BatchSize = size
		if err := rebuilder.Rebuild(ctx, projections.Clients{}, nil); err != nil {
			t.Fatal(err)
		}
		if rebuilt := clientRows(t, pool); rebuilt != inBatch {
			t.Fatalf("read model differs:\nin one batch:                 %s\nrebuilt in batches of %4d: %s", inBatch, size, rebuilt)
		}
	}
}

// clientWithEveryEvent is a company brought by a source, synced from a
// second one, removed at both and restored at one, invited to its app and
// validated, given contacts and custom fields, deleted and restored, given
// a custom field again.
func clientWithEveryEvent(t *testing.T) *domain.Client {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	fields := domain.NewCustomFieldSet(uuid.Nil)
	segment, err := domain.NewCustomFieldDefinition("segment", domain.CustomText, nil)
	must(err)
	must(fields.Define(segment))
	c, err := domain.RegisterFromSource(uuid.New(), domain.ExternalRef{Source: "adminpulse", ExternalID: "R-1"},
		map[domain.Field]string{domain.FieldKind: domain.KindCompany, domain.FieldCompanyName: "Every Event", domain.FieldEmail: "every@example.com"})
	must(err)
	must(c.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Namur"},
		CustomFields: map[string]string{"segment": "gold"}}, fields))
	must(c.SyncFromSource(domain.ExternalRef{Source: "erp", ExternalID: "E-1"}, map[domain.Field]string{domain.FieldPhone: "+32 81 00 00 00"}))
	c.RemoveAtSource("adminpulse", "R-1")
	c.RemoveAtSource("erp", "E-1")
	must(c.SyncFromSource(domain.ExternalRef{Source: "erp", ExternalID: "E-1"}, nil))
	must(c.Invite())
	must(c.RegisterAppUser(uuid.New(), "every@example.com", "phone"))
	must(c.ValidateAccess())
	jan, piet := uuid.New(), uuid.New()
	must(c.AddContactPerson(jan, map[string]string{"first_name": "Jan"}))
	must(c.AddContactPerson(piet, map[string]string{"first_name": "Piet", "role": "boekhouder"}))
	must(c.ChangeContactPerson(piet, map[string]string{"role": ""}))
	must(c.RemoveContactPerson(jan))
	must(c.ChangeDetails(domain.ClientInput{CustomFields: map[string]string{"segment": ""}}, fields))
	must(c.DetachFromSource()) // the ERP manages it: detached before it can be deleted by hand
	must(c.Delete("dubbel"))
	must(c.Restore())
	must(c.ChangeDetails(domain.ClientInput{CustomFields: map[string]string{"segment": "silver"}}, fields))
	return c
}

// erasedClient is a client with a contact, erased.
func erasedClient(t *testing.T) *domain.Client {
	t.Helper()
	c, err := domain.RegisterClient(uuid.New(), personInput("gone@example.com"), domain.NewCustomFieldSet(uuid.Nil))
	if err == nil {
		err = c.AddContactPerson(uuid.New(), map[string]string{"first_name": "Jan"})
	}
	if err == nil {
		err = c.Erase("request 7")
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProjectorSetsAsideThePoisonEventOfABatchAndAppliesTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	s := &history{t: t, h: commands.NewHandlers(store), versions: map[uuid.UUID]int{}}
	var ids []uuid.UUID
	for i := range 8 {
		res := s.in(origin.TenantID)(s.h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(fmt.Sprintf("b%d@example.com", i))}))
		ids = append(ids, res.ID)
	}
	var bad int64
	for i, id := range ids {
		res := s.in(origin.TenantID)(s.h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: origin, ClientID: id,
			ExpectedVersion: s.versions[id], Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Leuven"}}}))
		if i == 3 {
			bad = res.Position
		}
		s.in(origin.TenantID)(s.h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: id}))
	}

	p := &probe{before: func(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
		for _, e := range events {
			if e.Position == bad {
				_, err := tx.Exec(ctx, `SELECT 1/0`) // aborts the transaction: the savepoint must contain it
				return err
			}
		}
		return nil
	}}
	waitUntilReadable(t, pool) // the whole log in one batch
	projector := project(t, pool, p, postgres.ProjectorConfig{}, origin.TenantID, s.last.Position)

	calls := p.callSizes()
	if len(calls) < 2 || calls[0] != 3*len(ids) || slices.Max(calls[1:]) != 1 {
		t.Fatalf("Apply calls %v; want the batch of %d, then one event at a time", calls, 3*len(ids))
	}
	var failedAt []int64
	if err := pool.QueryRow(ctx, `SELECT array_agg(event_offset) FROM projection_failures WHERE projection = 'clients'`).Scan(&failedAt); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(failedAt, []int64{bad}) || projector.Failures() != 1 {
		t.Fatalf("set aside %v (failures metric %d); want [%d]", failedAt, projector.Failures(), bad)
	}
	poisoned := ids[3]
	others := slices.Delete(slices.Clone(ids), 3, 4)
	assertReadModelMatchesLog(t, pool, store, origin.TenantID, others)
	view, err := postgres.NewReadModels(pool).Client(ctx, origin.TenantID, poisoned)
	if err != nil {
		t.Fatal(err)
	}
	// The change was set aside; the deletion after it still applied.
	if view.Address.City != "" || view.Status != "deleted" || view.Version != 3 {
		t.Fatalf("poisoned client: city %q, status %s, version %d; want no city, deleted, 3", view.Address.City, view.Status, view.Version)
	}
}

// registerMany appends n registrations, 100 per transaction (a long one
// would hold back every subscriber on the server, other tests' included),
// and returns the position of the last.
func registerMany(t *testing.T, store *eventlog.EventStore, origin domain.Origin, n int) int64 {
	t.Helper()
	var last int64
	for start := 0; start < n; start += 100 {
		var aggs []domain.Aggregate
		for i := start; i < min(start+100, n); i++ {
			c, err := domain.RegisterClient(uuid.New(), personInput(fmt.Sprintf("bulk%d@example.com", i)), nil)
			if err != nil {
				t.Fatal(err)
			}
			aggs = append(aggs, c)
		}
		var err error
		if last, err = store.Save(context.Background(), origin, aggs...); err != nil {
			t.Fatal(err)
		}
	}
	return last
}

func createLedger(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE applied_ledger (position BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
}

// assertAppliedExactlyOnce checks that every client event of the log is in
// the ledger once (its key refuses a second time) and that nothing was set
// aside.
func assertAppliedExactlyOnce(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var missing, failures int
	if err := pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM events e WHERE e.stream_type = 'client' AND NOT EXISTS (SELECT 1 FROM applied_ledger l WHERE l.position = e."offset")),
		(SELECT count(*) FROM projection_failures)`).Scan(&missing, &failures); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || failures != 0 {
		t.Fatalf("%d events never applied, %d set aside (applied twice or failed)", missing, failures)
	}
}

func TestProjectorAbandonedBatchCommitsNeitherRowsNorOffsets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	createLedger(t, pool)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	last := registerMany(t, store, origin, 30)
	waitUntilReadable(t, pool)

	// The batch fails at its end, once every other message of it was acked:
	// on Close, Watermill commits the offsets of acked messages, so only the
	// rollback keeps them from being skipped.
	var failed atomic.Bool
	applied := &atomic.Int64{}
	failing := &probe{before: func(context.Context, pgx.Tx, []domain.RecordedEvent) error {
		if failed.CompareAndSwap(false, true) {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	}}
	cfg := postgres.ProjectorConfig{PollInterval: 10 * time.Millisecond}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := postgres.NewProjector(pool, testKeyring(t), failing, cfg, logger).Run(ctx); err == nil {
		t.Fatal("the projector should stop with an error after abandoning its batch")
	}
	var rows int
	var acked int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_clients),
		coalesce((SELECT offset_acked FROM events_offsets WHERE consumer_group = 'clients'), 0)`).Scan(&rows, &acked); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || acked != 0 {
		t.Fatalf("after the abandoned batch: %d rows, offset %d committed; want none", rows, acked)
	}

	project(t, pool, countedClients{applied: applied}, cfg, origin.TenantID, last)
	assertAppliedExactlyOnce(t, pool)
}

func TestProjectorStoppedMidBatchAppliesWhatItAckedAndResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	createLedger(t, pool)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	last := registerMany(t, store, origin, 1500)
	waitUntilReadable(t, pool)

	// One batch of 1500, of which the projector applies the first 1000 as
	// soon as it holds them. The stop comes at the 1100th ack (Watermill
	// logs each): events from 1001 on are acked but only held, and
	// Watermill commits their offsets on Close.
	runCtx, stop := context.WithTimeout(ctx, 15*time.Second)
	defer stop()
	var acks atomic.Int64
	// Later acks are slowed down, so that the projector's stop goroutine
	// surely lands before the batch's last message.
	logger := slog.New(onLog(func(msg string) {
		if msg != "Message acked by subscriber" {
			return
		}
		if n := acks.Add(1); n == 1100 {
			stop()
		} else if n > 1100 {
			time.Sleep(time.Millisecond)
		}
	}))
	applied := &atomic.Int64{}
	cfg := postgres.ProjectorConfig{BatchSize: 2000, PollInterval: 10 * time.Millisecond}
	if err := postgres.NewProjector(pool, testKeyring(t), countedClients{applied: applied}, cfg, logger).Run(runCtx); err != nil {
		t.Fatalf("a stopped projector returns nil, got %v", err)
	}
	// What committed is consistent: every event up to the committed offset
	// is applied, none after it; and the stop did come mid-batch, past the
	// first 1000.
	var acked, thousandth int64
	var behind, ahead int
	if err := pool.QueryRow(ctx, `SELECT o.offset_acked,
		(SELECT "offset" FROM events ORDER BY "offset" OFFSET 999 LIMIT 1),
		(SELECT count(*) FROM events e WHERE e."offset" <= o.offset_acked AND NOT EXISTS (SELECT 1 FROM applied_ledger l WHERE l.position = e."offset")),
		(SELECT count(*) FROM applied_ledger l WHERE l.position > o.offset_acked)
		FROM events_offsets o WHERE o.consumer_group = 'clients'`).Scan(&acked, &thousandth, &behind, &ahead); err != nil {
		t.Fatal(err)
	}
	if behind != 0 || ahead != 0 {
		t.Fatalf("after the stop: offset %d committed, %d events up to it not applied, %d after it applied", acked, behind, ahead)
	}
	if acked <= thousandth || acked == last {
		t.Fatalf("offset %d committed; the stop was meant to land between %d and %d (did Watermill's log message change?)", acked, thousandth, last)
	}

	project(t, pool, countedClients{applied: applied}, cfg, origin.TenantID, last)
	assertAppliedExactlyOnce(t, pool)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_clients`).Scan(&rows); err != nil || rows != 1500 {
		t.Fatalf("read model holds %d clients (%v), want 1500", rows, err)
	}
}

// onLog is a slog handler that passes each record's message to a function.
type onLog func(msg string)

func (h onLog) Enabled(context.Context, slog.Level) bool { return true }
func (h onLog) Handle(_ context.Context, r slog.Record) error {
	h(r.Message)
	return nil
}
func (h onLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onLog) WithGroup(string) slog.Handler      { return h }

// A projector's transactions plan every query afresh (a plan cached while
// the log was small would scan the whole backlog once a big import lands)
// and commit without waiting for the disk (all of it is done again from the
// log after a crash).
func TestProjectorTransactionsPlanAfreshAndDoNotWaitForTheDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	res, err := commands.NewHandlers(store).RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("plans@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var planning, commit string
	p := &probe{before: func(ctx context.Context, tx pgx.Tx, _ []domain.RecordedEvent) error {
		return tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode'), current_setting('synchronous_commit')`).Scan(&planning, &commit)
	}}
	project(t, pool, p, postgres.ProjectorConfig{}, origin.TenantID, res.Position)
	if planning != "force_custom_plan" || commit != "off" {
		t.Errorf("projector transaction: plan_cache_mode %q, synchronous_commit %q; want force_custom_plan, off", planning, commit)
	}
}
