package eventlog_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// testMasterKey is a fixed key for tests only.
var testMasterKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func newStore(t *testing.T) (*eventlog.EventStore, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	key, err := eventlog.ParseMasterKey(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := eventlog.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return eventlog.NewEventStore(pool, keys, nil), pool
}

func personInput(email string) domain.ClientInput {
	return domain.ClientInput{Details: map[domain.Field]string{
		domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont", domain.FieldEmail: email,
	}}
}

func TestConcurrentAppendsAtOneVersionExactlyOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	tenant := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	handlers := commands.NewHandlers(store)
	reg, err := handlers.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: tenant, Input: personInput("race@example.com")})
	if err != nil {
		t.Fatal(err)
	}

	const writers = 20
	var wg, loaded sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		loaded.Add(1)
		go func() {
			defer wg.Done()
			c := domain.NewClient(reg.ID)
			err := store.Load(ctx, tenant.TenantID, c)
			loaded.Done()
			if err != nil {
				t.Error(err)
				return
			}
			if err := c.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{
				domain.FieldCity: "City " + string(rune('A'+i)),
			}}, domain.NewCustomFieldSet(tenant.TenantID)); err != nil {
				t.Error(err)
				return
			}
			<-start
			_, err = store.Save(ctx, tenant, c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, domain.ErrConcurrencyConflict):
				conflicts++
				var ce *domain.ConflictError
				if !errors.As(err, &ce) || ce.CurrentVersion != 2 {
					t.Errorf("conflict should report current version 2, got %v", err)
				}
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	loaded.Wait() // every writer holds version 1 before any appends
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != writers-1 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and %d", wins, conflicts, writers-1)
	}
	var versions []int
	rows, _ := pool.Query(ctx, `SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version`, reg.ID)
	for rows.Next() {
		var v int
		_ = rows.Scan(&v)
		versions = append(versions, v)
	}
	if len(versions) != 2 || versions[0] != 1 || versions[1] != 2 {
		t.Fatalf("stream versions = %v, want [1 2]", versions)
	}
}

func TestConcurrentRegistrationsOfOneEmailOnlyOneSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	handlers := commands.NewHandlers(store)

	emails := []string{"Jan.Peeters@Example.be", " jan.peeters@example.BE "}
	errs := make([]error, len(emails))
	var wg sync.WaitGroup
	for i, email := range emails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = handlers.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(email)})
		}()
	}
	wg.Wait()
	ok, dup := 0, 0
	for _, err := range errs {
		var de *domain.DuplicateError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &de) && de.Field == "email":
			dup++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || dup != 1 {
		t.Fatalf("ok=%d duplicates=%d, want 1 and 1", ok, dup)
	}

	// Another tenant may use the same email.
	if _, err := handlers.RegisterClient.Handle(ctx, commands.RegisterClient{
		Origin: domain.Origin{TenantID: uuid.New()}, Input: personInput(emails[0])}); err != nil {
		t.Fatalf("same email in another tenant: %v", err)
	}
}

func TestDeletedClientReleasesEmailAndRestoreNeedsItBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	h := commands.NewHandlers(store)

	first, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("a@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: first.ID}); err != nil {
		t.Fatal(err)
	}
	second, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("A@example.com")})
	if err != nil {
		t.Fatalf("email of a deleted client should be free: %v", err)
	}
	_, err = h.RestoreClient.Handle(ctx, commands.RestoreClient{Origin: origin, ClientID: first.ID})
	var de *domain.DuplicateError
	if !errors.As(err, &de) || de.Field != "email" {
		t.Fatalf("restore with a taken email: got %v, want duplicate email", err)
	}
	if _, err := h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: origin, ClientID: second.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.RestoreClient.Handle(ctx, commands.RestoreClient{Origin: origin, ClientID: first.ID}); err != nil {
		t.Fatalf("restore once the email is free again: %v", err)
	}
}

func TestEventsTableRejectsUpdateAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	if _, err := commands.NewHandlers(store).RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("x@example.com")}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE events SET event_type = 'Tampered'`,
		`DELETE FROM events`,
		`TRUNCATE events`,
	} {
		_, err := pool.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want append-only rejection", stmt, err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("events after tampering attempts = %d (%v), want 1", n, err)
	}
}

func TestPersonalDataIsSealedInTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	res, err := commands.NewHandlers(store).RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput("secret.person@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := pool.QueryRow(ctx, `SELECT payload::text || metadata::text FROM events WHERE stream_id = $1`, res.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret.person", "Dupont", "Marie"} {
		if strings.Contains(raw, secret) {
			t.Errorf("the log holds %q in clear: %s", secret, raw)
		}
	}
	c := domain.NewClient(res.ID)
	if err := store.Load(ctx, origin.TenantID, c); err != nil {
		t.Fatal(err)
	}
	if c.Detail(domain.FieldEmail) != "secret.person@example.com" {
		t.Fatalf("loaded email = %q", c.Detail(domain.FieldEmail))
	}
	// Without the subject's key the data is gone, the event still there.
	if _, err := pool.Exec(ctx, `DELETE FROM subject_keys WHERE subject_id = $1`, res.ID); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(ctx, origin.TenantID, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || !events[0].PersonalDataErased {
		t.Fatalf("after key deletion: %+v", events)
	}
	if reg := events[0].Event.(domain.ClientRegistered); len(reg.Details) != 0 {
		t.Fatalf("details readable without key: %v", reg.Details)
	}
}

// Two clients swapping emails at once may deadlock on the reservations; the
// store retries the loser, so each side ends in success or a duplicate,
// never an internal error.
func TestSwappingEmailsConcurrentlyNeverFailsInternally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	origin := domain.Origin{TenantID: uuid.New()}
	h := commands.NewHandlers(store)
	for round := range 15 {
		emailA, emailB := fmt.Sprintf("a%d@example.com", round), fmt.Sprintf("b%d@example.com", round)
		a, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(emailA)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: personInput(emailB)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, swap := range []struct {
			id    uuid.UUID
			email string
		}{{a.ID, emailB}, {b.ID, emailA}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: origin, ClientID: swap.id,
					ExpectedVersion: 1, Input: domain.ClientInput{Details: map[domain.Field]string{domain.FieldEmail: swap.email}}})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, domain.ErrDuplicate) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// A batch goes into the log as its caller gave it: every event in the
// order of its changes, in the appending transaction, naming its import
// and row, and the position returned is its last event's.
func TestAppendWritesABatchInOrderInItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test", ImportID: uuid.New()}
	fields := domain.NewCustomFieldSet(origin.TenantID)
	var changes []commands.RowChange
	for row := 2; row <= 4; row++ {
		c, err := domain.RegisterClient(uuid.New(), personInput(fmt.Sprintf("row%d@example.com", row)), fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Namur"}}, fields); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, commands.RowChange{Row: row, Aggregate: c})
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	position, err := store.AppendInTx(ctx, tx, origin, changes)
	if err != nil {
		t.Fatal(err)
	}
	var txID string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&txID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	rows, err := pool.Query(ctx, `SELECT "offset", transaction_id::text, stream_id, stream_version, event_type, import_id,
		metadata->>'import_row' FROM events WHERE tenant_id = $1 ORDER BY "offset"`, origin.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	var last int64
	for rows.Next() {
		var offset int64
		var tx, eventType, row string
		var stream, importID uuid.UUID
		var version int
		if err := rows.Scan(&offset, &tx, &stream, &version, &eventType, &importID, &row); err != nil {
			t.Fatal(err)
		}
		if tx != txID || importID != origin.ImportID || offset <= last {
			t.Errorf("event at %d: transaction %s (want %s), import %s (want %s), after %d", offset, tx, txID, importID, origin.ImportID, last)
		}
		last = offset
		got = append(got, fmt.Sprintf("%s/%d %s row %s", stream, version, eventType, row))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ch := range changes {
		want = append(want, fmt.Sprintf("%s/1 ClientRegistered row %d", ch.Aggregate.StreamID(), ch.Row),
			fmt.Sprintf("%s/2 ClientDetailsChanged row %d", ch.Aggregate.StreamID(), ch.Row))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if position != last {
		t.Errorf("append returned position %d, its last event is at %d", position, last)
	}
}

// Loading many clients at once folds each one's own stream, personal
// fields unsealed, once even when asked for twice, and leaves a stream of
// another tenant, or none, at version 0; deleting them all at once frees
// their emails.
func TestLoadManyFoldsEachStreamAndSaveManyReleasesTheirValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := newStore(t)
	office, other := domain.Origin{TenantID: uuid.New(), Actor: "test"}, domain.Origin{TenantID: uuid.New(), Actor: "test"}
	var ids []uuid.UUID
	for i := range 3 {
		c, err := domain.RegisterClient(uuid.New(), personInput(fmt.Sprintf("client%d@example.be", i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Save(ctx, office, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID())
	}
	elsewhere, err := domain.RegisterClient(uuid.New(), personInput("elsewhere@example.be"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, other, elsewhere); err != nil {
		t.Fatal(err)
	}

	load := func(ids ...uuid.UUID) []*domain.Client {
		t.Helper()
		clients := make([]*domain.Client, len(ids))
		aggs := make([]domain.Aggregate, len(ids))
		for i, id := range ids {
			clients[i] = domain.NewClient(id)
			aggs[i] = clients[i]
		}
		if err := store.Load(ctx, office.TenantID, aggs...); err != nil {
			t.Fatal(err)
		}
		return clients
	}
	loaded := load(append(slices.Clone(ids), elsewhere.ID(), uuid.New(), ids[0])...)
	for i, c := range loaded[:3] {
		if c.Version() != 1 || c.Detail(domain.FieldEmail) != fmt.Sprintf("client%d@example.be", i) {
			t.Errorf("client %d loaded at version %d with email %q", i, c.Version(), c.Detail(domain.FieldEmail))
		}
	}
	if v := loaded[3].Version(); v != 0 {
		t.Errorf("another tenant's client loaded at version %d", v)
	}
	if v := loaded[4].Version(); v != 0 {
		t.Errorf("a client never registered loaded at version %d", v)
	}
	if v := loaded[5].Version(); v != 1 {
		t.Errorf("a client asked for twice loaded at version %d the second time", v)
	}

	var deleting []domain.Aggregate
	for _, c := range loaded[:2] {
		if err := c.Delete("gone"); err != nil {
			t.Fatal(err)
		}
		deleting = append(deleting, c)
	}
	if _, err := store.Save(ctx, office, deleting...); err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"client0@example.be", "client1@example.be", "client2@example.be"} {
		c, err := domain.RegisterClient(uuid.New(), personInput(email), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Save(ctx, office, c)
		var dup *domain.DuplicateError
		if taken := errors.As(err, &dup); taken != (i == 2) {
			t.Errorf("registering %s again: %v (the first two were deleted, the third was not)", email, err)
		}
	}
	if again := load(ids[:2]...); again[0].Version() != 2 || !again[1].Deleted() {
		t.Errorf("after the deletion: versions %d and %d, deleted %v", again[0].Version(), again[1].Version(), again[1].Deleted())
	}
}
