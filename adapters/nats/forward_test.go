package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	natsfwd "github.com/clientreg/clientreg/adapters/nats"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

const defaultNATSURL = "nats://127.0.0.1:4222"

// jetStreamOrSkip connects to NATS_URL (default the local server) and
// skips the test when NATS or JetStream is not there: forwarding is optional.
func jetStreamOrSkip(t *testing.T) (string, jetstream.JetStream) {
	t.Helper()
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = defaultNATSURL
	}
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("NATS is not reachable at %s (%v): the NATS forwarder is optional; run nats-server -js (or set NATS_URL) to test it", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Skipf("NATS at %s has no JetStream (%v): the NATS forwarder is optional; run nats-server -js to test it", url, err)
	}
	return url, js
}

func newStore(t *testing.T) (*eventlog.EventStore, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	keys, err := eventlog.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return eventlog.NewEventStore(pool, keys, nil), pool
}

// uniqueNames gives the test a subject prefix and stream of its own (not
// overlapping clientreg.events.>), deleted when the test ends.
func uniqueNames(t *testing.T, js jetstream.JetStream) (prefix, stream string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	prefix, stream = "clientregtest."+suffix, "CLIENTREG_TEST_"+strings.ToUpper(suffix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
	})
	return prefix, stream
}

// logged is an event as the log holds it, in the order subscribers see.
type logged struct {
	id       uuid.UUID
	position int64
	tenant   uuid.UUID
	typ      string
	stream   uuid.UUID
	version  int
}

func readLog(t *testing.T, pool *pgxpool.Pool) []logged {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT uuid::uuid, "offset", tenant_id, event_type, stream_id, stream_version
		FROM events ORDER BY transaction_id, "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []logged
	for rows.Next() {
		var e logged
		if err := rows.Scan(&e.id, &e.position, &e.tenant, &e.typ, &e.stream, &e.version); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// running is one run of the forwarder.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func start(f *natsfwd.Forwarder) running {
	ctx, cancel := context.WithCancel(context.Background())
	r := running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.Run(ctx) }()
	return r
}

func (r running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("forwarder run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("forwarder did not stop")
	}
}

// waitForMessages waits until the stream holds n messages.
func waitForMessages(t *testing.T, js jetstream.JetStream, stream string, n uint64, run running) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got uint64
	for time.Now().Before(deadline) {
		select {
		case err := <-run.done:
			t.Fatalf("forwarder stopped: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := js.Stream(ctx, stream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = s.Info(ctx); err == nil {
				got = info.State.Msgs
			}
		}
		cancel()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("stream %s holds %d messages, want %d", stream, got, n)
}

func TestForwardsEventsToJetStreamInLogOrderAcrossRestarts(t *testing.T) {
	t.Parallel()
	url, js := jetStreamOrSkip(t)
	prefix, stream := uniqueNames(t, js)
	store, pool := newStore(t)
	ctx := context.Background()
	h := commands.NewHandlers(store)
	tenantA := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	tenantB := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	person := func(first, email string) domain.ClientInput {
		return domain.ClientInput{Details: map[domain.Field]string{
			domain.FieldFirstName: first, domain.FieldLastName: "Dupont", domain.FieldEmail: email}}
	}
	must := func(r commands.Result, err error) commands.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	city := func(c string) domain.ClientInput {
		return domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: c}}
	}

	marie := must(h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: tenantA, Input: person("Marie", "marie@example.be")}))
	jan := must(h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: tenantB, Input: person("Jan", "jan@example.be")}))
	must(h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: tenantA, ClientID: marie.ID, ExpectedVersion: 1, Input: city("Namur")}))
	must(h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: tenantA, Input: person("Paul", "paul@example.be")}))
	must(h.DeleteClient.Handle(ctx, commands.DeleteClient{Origin: tenantB, ClientID: jan.ID, Reason: "left"}))
	firstBatch := readLog(t, pool)

	f := natsfwd.NewForwarder(store, natsfwd.Config{URL: url, SubjectPrefix: prefix, Stream: stream,
		PollInterval: 20 * time.Millisecond, RetryInterval: 100 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))

	run := start(f)
	waitForMessages(t, js, stream, uint64(len(firstBatch)), run)
	run.stop(t)
	// A graceful stop commits the offset of what JetStream acknowledged.
	var acked int64
	if err := pool.QueryRow(ctx, `SELECT offset_acked FROM events_offsets WHERE consumer_group = $1`,
		natsfwd.DefaultConsumerGroup).Scan(&acked); err != nil {
		t.Fatal(err)
	}
	if last := firstBatch[len(firstBatch)-1].position; acked != last {
		t.Fatalf("offset after the first run %d, want %d", acked, last)
	}

	// Written while the forwarder is stopped: forwarded by the next run.
	must(h.ChangeClientDetails.Handle(ctx, commands.ChangeClientDetails{Origin: tenantA, ClientID: marie.ID, ExpectedVersion: 2, Input: city("Liège")}))
	must(h.RestoreClient.Handle(ctx, commands.RestoreClient{Origin: tenantB, ClientID: jan.ID}))
	must(h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: tenantB, Input: person("Els", "els@example.be")}))
	all := readLog(t, pool)
	if len(all) <= len(firstBatch) {
		t.Fatalf("log has %d events after the second writes, want more than %d", len(all), len(firstBatch))
	}

	run = start(f)
	waitForMessages(t, js, stream, uint64(len(all)), run)
	time.Sleep(300 * time.Millisecond) // a duplicate would show up now
	run.stop(t)

	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(len(all)+5, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []jetstream.Msg
	for msg := range batch.Messages() {
		got = append(got, msg)
	}
	if err := batch.Error(); err != nil && len(got) < len(all) {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("stream holds %d messages, want each of the %d events once", len(got), len(all))
	}
	lastVersion := map[uuid.UUID]int{}
	for i, msg := range got {
		want := all[i]
		wantSubject := prefix + "." + want.tenant.String() + "." + want.typ
		if msg.Subject() != wantSubject {
			t.Errorf("message %d on %s, want %s", i, msg.Subject(), wantSubject)
		}
		if id := msg.Headers().Get(natsgo.MsgIdHdr); id != want.id.String() {
			t.Errorf("message %d Nats-Msg-Id %q, want the event id %s", i, id, want.id)
		}
		var fe projections.FeedEvent
		if err := json.Unmarshal(msg.Data(), &fe); err != nil {
			t.Fatalf("message %d payload is not a feed event: %v", i, err)
		}
		if fe.ID != want.id || fe.Position != want.position || fe.TenantID != want.tenant || fe.Type != want.typ ||
			fe.StreamID != want.stream || fe.StreamVersion != want.version {
			t.Errorf("message %d is %s %s v%d at %d, want %s %s v%d at %d", i, fe.ID, fe.Type, fe.StreamVersion, fe.Position,
				want.id, want.typ, want.version, want.position)
		}
		if fe.StreamVersion != lastVersion[fe.StreamID]+1 {
			t.Errorf("stream %s: version %d after %d", fe.StreamID, fe.StreamVersion, lastVersion[fe.StreamID])
		}
		lastVersion[fe.StreamID] = fe.StreamVersion
	}
	// Personal fields travel in clear (the subject's key is there).
	var first projections.FeedEvent
	if err := json.Unmarshal(got[0].Data(), &first); err != nil {
		t.Fatal(err)
	}
	if first.Type != "ClientRegistered" || !strings.Contains(string(first.Data), "marie@example.be") || first.PersonalData != "" {
		t.Errorf("first event %s: data %s, personal_data %q; want Marie's registration in clear", first.Type, first.Data, first.PersonalData)
	}
}

func TestRunFailsWhenNATSIsUnreachable(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	// Nothing listens on port 1.
	f := natsfwd.NewForwarder(store, natsfwd.Config{URL: "nats://127.0.0.1:1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Run(ctx); err == nil {
		t.Fatal("Run against an unreachable NATS returned nil")
	}
}

func TestSubject(t *testing.T) {
	got, err := natsfwd.Subject("clientreg.events", "8f0c", "ClientRegistered")
	if err != nil || got != "clientreg.events.8f0c.ClientRegistered" {
		t.Fatalf("Subject = %q, %v", got, err)
	}
	for _, bad := range []string{"", "a.b", "a*", ">", "a b"} {
		if _, err := natsfwd.Subject("p", "t", bad); err == nil {
			t.Errorf("event type %q accepted as a subject token", bad)
		}
	}
}

func TestFailedPublishesEndTheRunAndNothingIsLost(t *testing.T) {
	t.Parallel()
	url, js := jetStreamOrSkip(t)
	prefix, stream := uniqueNames(t, js)
	store, pool := newStore(t)
	ctx := context.Background()
	h := commands.NewHandlers(store)
	origin := domain.Origin{TenantID: uuid.New(), Actor: "test"}
	for _, email := range []string{"marie@example.be", "paul@example.be"} {
		if _, err := h.RegisterClient.Handle(ctx, commands.RegisterClient{Origin: origin, Input: domain.ClientInput{
			Details: map[domain.Field]string{domain.FieldFirstName: "A", domain.FieldLastName: "B", domain.FieldEmail: email}}}); err != nil {
			t.Fatal(err)
		}
	}
	all := readLog(t, pool)

	// The stream exists but does not take our subjects: every publish is
	// refused, the run ends after MaxFailures, and no offset moves.
	cfg := jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".elsewhere"}, Storage: jetstream.MemoryStorage}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var logs syncLog
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := natsfwd.NewForwarder(store, natsfwd.Config{URL: url, SubjectPrefix: prefix, Stream: stream,
		PollInterval: 20 * time.Millisecond, RetryInterval: 50 * time.Millisecond, MaxFailures: 2}, logger)
	runCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := f.Run(runCtx); err == nil || runCtx.Err() != nil {
		t.Fatalf("run against a stream refusing our subjects: %v (want a publishing error before the timeout)", err)
	}

	cfg.Subjects = []string{prefix + ".>"}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	run := start(f)
	waitForMessages(t, js, stream, uint64(len(all)), run)
	run.stop(t)
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range all {
		msg, err := s.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if id := msg.Header.Get(natsgo.MsgIdHdr); id != want.id.String() {
			t.Errorf("message %d is event %s, want %s", i+1, id, want.id)
		}
	}
	logged := logs.String()
	if strings.Contains(logged, "example.be") {
		t.Errorf("personal data in the logs:\n%s", logged)
	}
	if !strings.Contains(logged, "level=WARN") {
		t.Errorf("no warning logged for the refused publishes:\n%s", logged)
	}
	if testing.Verbose() {
		t.Log(logged)
	}
}

// syncLog collects log lines written by the forwarder's goroutines, some
// of which (the router's handler closing) still log after Run returns.
type syncLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
