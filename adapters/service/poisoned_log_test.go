package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// insertRaw appends an event the way an older version would have, past
// today's checks: a copy of the stored event at position like, with its
// type, stream and payload replaced. It returns the new event's id.
func (a *app) insertRaw(like, eventType, payload string) string {
	a.t.Helper()
	ctx := context.Background()
	var raw []byte
	var tenant uuid.UUID
	var streamType string
	if err := a.svc.Pool.QueryRow(ctx, `SELECT metadata::text, tenant_id, stream_type FROM events WHERE "offset" = $1::bigint`, like).
		Scan(&raw, &tenant, &streamType); err != nil {
		a.t.Fatal(err)
	}
	var md map[string]string
	if err := json.Unmarshal(raw, &md); err != nil {
		a.t.Fatal(err)
	}
	id, stream := uuid.NewString(), uuid.New()
	md["event_id"], md["event_type"], md["stream_id"], md["stream_version"] = id, eventType, stream.String(), "1"
	raw, _ = json.Marshal(md)
	if _, err := a.svc.Pool.Exec(ctx, `INSERT INTO events (uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type)
		VALUES ($1, $2::json, $3::json, $4, $5, $6, 1, $7)`, id, payload, string(raw), tenant, streamType, stream, eventType); err != nil {
		a.t.Fatal(err)
	}
	return id
}

// TestReplayOverAPoisonedLog: a log that already holds an event with a NUL
// byte (which older versions let in) and one no projection can read. The
// live projector and a replay apply the first with the byte replaced and
// set the second aside; the replay finishes for every tenant, verify names
// the set-aside event and /readyz counts it; an interrupted replay leaves
// no rebuild tables behind.
func TestReplayOverAPoisonedLog(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := context.Background()
	tokA, tokB := a.tenant("poisoned")[domain.RoleEditor], a.tenant("neighbour")[domain.RoleEditor]
	vip := a.do("POST", "/v1/lists", tokA, map[string]any{"name": "VIP"}).expect(t, 201)
	a.do("POST", "/v1/clients", tokA, marie("marie@example.be")).expect(t, 201)

	a.insertRaw(vip.str("position"), "ListCreated", `{"name":"V\u0000IP 2"}`)
	unreadable := a.insertRaw(vip.str("position"), "ListRenamedTwice", `{"name":"x"}`)
	a.do("POST", "/v1/lists", tokB, map[string]any{"name": "Neighbours"}).expect(t, 201)
	afterA := a.do("POST", "/v1/lists", tokA, map[string]any{"name": "After"}).expect(t, 201)
	listNames := func(tok, position string) []string {
		var names []string
		for _, l := range a.do("GET", "/v1/lists?min_position="+position, tok, nil).expect(t, 200).items() {
			names = append(names, l["name"].(string))
		}
		slices.Sort(names)
		return names
	}
	if names := listNames(tokA, afterA.str("position")); strings.Join(names, ",") != "After,VIP,V\uFFFDIP 2" {
		t.Fatalf("the live projector shows lists %q", names)
	}

	var setAside []postgres.SetAsideEvent
	a.svc.Rebuilder.OnSetAside = func(e postgres.SetAsideEvent) { setAside = append(setAside, e) }
	for _, p := range projections.All() {
		if err := a.svc.Rebuilder.Rebuild(ctx, p, nil); err != nil {
			t.Fatalf("replay %s: %v", p.Name(), err)
		}
	}
	if len(setAside) != 1 || setAside[0].EventID != unreadable || setAside[0].EventType != "ListRenamedTwice" || setAside[0].Projection != "lists" {
		t.Fatalf("replay set aside %+v; want the unreadable event, once", setAside)
	}
	if names := listNames(tokA, "0"); strings.Join(names, ",") != "After,VIP,V\uFFFDIP 2" {
		t.Errorf("after replay tenant A has lists %q", names)
	}
	if names := listNames(tokB, "0"); strings.Join(names, ",") != "Neighbours" {
		t.Errorf("after replay tenant B has lists %q", names)
	}

	listed, err := a.svc.Verifier.SetAside(ctx, nil)
	if err != nil || len(listed) != 1 || listed[0].EventID != unreadable || listed[0].EventType != "ListRenamedTwice" {
		t.Errorf("verify lists %+v (%v)", listed, err)
	}
	var differences []postgres.Difference
	// The NUL-bearing list matches its read model; the unreadable stream
	// is named, and does not stop verify.
	if err := a.svc.Verifier.Verify(ctx, nil, func(d postgres.Difference) { differences = append(differences, d) }); err != nil ||
		len(differences) != 1 || differences[0].Field != "unreadable" || !strings.Contains(differences[0].LogValue, "ListRenamedTwice") {
		t.Errorf("verify: %v %+v", err, differences)
	}
	ready := a.do("GET", "/readyz", "", nil).expect(t, 200)
	failures := map[string]float64{}
	for _, p := range ready.body["projections"].([]any) {
		m := p.(map[string]any)
		failures[m["name"].(string)] = m["failures"].(float64)
	}
	if failures["lists"] != 1 || failures["clients"] != 0 {
		t.Errorf("/readyz counts set-aside events %v: %s", failures, ready.raw)
	}

	// Interrupted once it has made its tables: they are dropped.
	cancelled, cancel := context.WithCancel(ctx)
	err = a.svc.Rebuilder.Rebuild(cancelled, projections.Clients{}, func(done, total int64) { cancel() })
	if err == nil {
		t.Fatal("the interrupted replay reports success")
	}
	var schemas int
	if err := a.svc.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild\_%' OR nspname LIKE 'replaced\_%'`).Scan(&schemas); err != nil || schemas != 0 {
		t.Errorf("%d rebuild schemas left behind (%v)", schemas, err)
	}
	a.do("GET", "/v1/clients?min_position="+afterA.str("position"), tokA, nil).expect(t, 200)
}
