package service_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// changeOf finds the change of one field in a history entry.
func changeOf(entry map[string]any, field string) (old, new any, ok bool) {
	changes, _ := entry["changes"].([]any)
	for _, c := range changes {
		m, _ := c.(map[string]any)
		if m["field"] == field {
			return m["old"], m["new"], true
		}
	}
	return nil, nil, false
}

func TestClientTimelineAndPastStates(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("cabinet")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]

	list := a.do("POST", "/v1/lists", editor, map[string]any{"name": "Newsletter"}).expect(t, 201)
	id := a.do("POST", "/v1/clients", editor, marie("marie@example.be")).expect(t, 201).str("id")
	a.do("PATCH", "/v1/clients/"+id, editor, map[string]any{"phone": "+32 81 22 33 44"}, "If-Match", "1").expect(t, 200)
	a.do("PUT", "/v1/clients/"+id+"/lists/"+list.str("id"), editor, nil).expect(t, 200)

	file := "Courriel;Ville\r\nmarie@example.be;Liège\r\n"
	imp := a.upload(editor, "update.csv", []byte(file), "lang", "fr").expect(t, http.StatusCreated)
	done := a.execute(admin, imp.str("id"), map[string]any{"mode": "create_and_update"})
	if done.str("status") != "executed" {
		t.Fatalf("import %s", done.raw)
	}
	a.do("DELETE", "/v1/clients/"+id, editor, map[string]any{"reason": "left the firm"}).expect(t, 200)

	history := a.do("GET", "/v1/clients/"+id+"/history", tokens[domain.RoleViewer], nil).expect(t, 200)
	entries := history.items()
	events := make([]string, len(entries))
	for i, e := range entries {
		events[i] = field(e, "event")
	}
	want := "ClientRegistered ClientDetailsChanged ClientAddedToList ClientDetailsChanged ClientDeleted"
	if strings.Join(events, " ") != want {
		t.Fatalf("timeline %v, want %s", events, want)
	}
	registered, phone, listed, imported, deleted := entries[0], entries[1], entries[2], entries[3], entries[4]
	if _, email, _ := changeOf(registered, "email"); email != "marie@example.be" {
		t.Errorf("registration shows email %v: %v", email, registered)
	}
	if cause := registered["cause"].(map[string]any); cause["kind"] != "manual" || !strings.HasPrefix(field(registered, "actor"), "token:") {
		t.Errorf("registration cause %v, actor %v", cause, registered["actor"])
	}
	if old, new, _ := changeOf(phone, "phone"); old != nil || new != "+32 81 22 33 44" {
		t.Errorf("phone change %v -> %v", old, new)
	}
	if _, member, _ := changeOf(listed, "lists."+list.str("id")); member != "member" {
		t.Errorf("list entry %v", listed)
	}
	cause := imported["cause"].(map[string]any)
	if cause["kind"] != "import" || cause["import_label"] != done.str("label") || field(cause, "row") != "2" {
		t.Errorf("import entry cause %v, want label %s row 2", cause, done.str("label"))
	}
	if old, new, _ := changeOf(imported, "address.city"); old != "Namur" || new != "Liège" {
		t.Errorf("import changed city %v -> %v", old, new)
	}
	if old, new, _ := changeOf(deleted, "status"); old != "active" || new != "deleted" || deleted["reason"] != "left the firm" {
		t.Errorf("deletion entry %v", deleted)
	}

	// The client as it was right after the phone change: on no list yet,
	// still in Namur.
	then := a.do("GET", "/v1/clients/"+id+"?as_of="+field(phone, "at"), editor, nil).expect(t, 200)
	if then.str("phone") != "+32 81 22 33 44" || then.str("address", "city") != "Namur" || len(then.list("lists")) != 0 || then.str("version") != "2" {
		t.Errorf("as of the phone change: %s", then.raw)
	}
	now := a.do("GET", "/v1/clients/"+id+"?as_of="+time.Now().UTC().Format(time.RFC3339Nano), editor, nil).expect(t, 200)
	if now.str("status") != "deleted" || now.str("address", "city") != "Liège" {
		t.Errorf("as of now: %s", now.raw)
	}
	before, _ := time.Parse(time.RFC3339Nano, field(registered, "at"))
	a.do("GET", "/v1/clients/"+id+"?as_of="+before.Add(-time.Second).Format(time.RFC3339), editor, nil).expect(t, 404)
	a.do("GET", "/v1/clients/"+id+"?as_of=yesterday", editor, nil).expect(t, 400)

	// Undo shows as such, and the import keeps its own timeline.
	a.do("POST", "/v1/clients/"+id+"/restore", editor, nil).expect(t, 200)
	a.do("POST", "/v1/imports/"+imp.str("id")+"/undo", admin, nil).expect(t, 200)
	last := a.do("GET", "/v1/clients/"+id+"/history", editor, nil).items()
	undo := last[len(last)-1]
	if c := undo["cause"].(map[string]any); c["kind"] != "undo" || c["import_label"] != done.str("label") {
		t.Errorf("undo entry %v", undo)
	}
	if old, new, _ := changeOf(undo, "address.city"); old != "Liège" || new != "Namur" {
		t.Errorf("undo changed city %v -> %v", old, new)
	}
	impHistory := a.do("GET", "/v1/imports/"+imp.str("id")+"/history", editor, nil).expect(t, 200).items()
	var impEvents []string
	for _, e := range impHistory {
		impEvents = append(impEvents, field(e, "event"))
	}
	if got := strings.Join(impEvents, " "); got != "ImportAnalyzed ImportExecutionRequested ImportExecuted ImportUndone" {
		t.Errorf("import timeline %s", got)
	}
	a.do("GET", "/v1/clients/"+imp.str("id")+"/history", editor, nil).expect(t, 404)
	a.do("GET", "/v1/imports/"+id+"/history", editor, nil).expect(t, 404)
	a.verify()
}

func TestEventFeedPagesAndStreams(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("feed")[domain.RoleEditor]
	other := a.tenant("other")[domain.RoleEditor]
	a.do("POST", "/v1/clients", other, marie("someone@else.be")).expect(t, 201)
	var ids []string
	for _, email := range []string{"a@example.be", "b@example.be", "c@example.be"} {
		ids = append(ids, a.do("POST", "/v1/clients", tok, marie(email)).expect(t, 201).str("id"))
	}

	// An event shows in the feed once every transaction older than its own
	// has finished (other tests' included): soon, not at once.
	var first, rest response
	var all []map[string]any
	for deadline := time.Now().Add(10 * time.Second); len(all) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		first = a.do("GET", "/v1/events?limit=2", tok, nil).expect(t, 200)
		rest = a.do("GET", "/v1/events?after="+first.str("next_after"), tok, nil).expect(t, 200)
		all = append(first.items(), rest.items()...)
	}
	if len(all) != 3 {
		t.Fatalf("feed gave %d events, want 3 (no other tenant's): %s %s", len(all), first.raw, rest.raw)
	}
	for i, e := range all {
		data, _ := e["data"].(map[string]any)
		details, _ := data["details"].(map[string]any)
		if field(e, "type") != "ClientRegistered" || field(e, "stream_id") != ids[i] || details["email"] == nil {
			t.Errorf("event %d: %v", i, e)
		}
	}
	empty := a.do("GET", "/v1/events?after="+rest.str("next_after"), tok, nil).expect(t, 200)
	if len(empty.items()) != 0 || empty.str("next_after") != rest.str("next_after") {
		t.Errorf("feed past the end: %s", empty.raw)
	}
	if n := len(a.do("GET", "/v1/events?type=ClientDeleted", tok, nil).items()); n != 0 {
		t.Errorf("type filter let %d events through", n)
	}
	if n := len(a.do("GET", "/v1/events?stream="+ids[1], tok, nil).items()); n != 1 {
		t.Errorf("stream filter gave %d events", n)
	}

	// The stream resumes after Last-Event-ID and goes on with new events.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.base+"/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Last-Event-ID", field(all[0], "position"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	nextID := func() string {
		for lines.Scan() {
			if id, ok := strings.CutPrefix(lines.Text(), "id: "); ok {
				return id
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	if got := nextID(); got != field(all[1], "position") {
		t.Errorf("resumed at %s, want %s", got, field(all[1], "position"))
	}
	if got := nextID(); got != field(all[2], "position") {
		t.Errorf("second event %s, want %s", got, field(all[2], "position"))
	}
	later := a.do("POST", "/v1/clients", tok, marie("d@example.be")).expect(t, 201)
	if got := nextID(); got != later.str("position") {
		t.Errorf("live event %s, want %s", got, later.str("position"))
	}
}

func TestErasureLeavesNoReadablePersonalData(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("cabinet")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]
	const (
		email = "zq.4471@example.be"
		name  = "Quaglia"
		phone = "+32 470 98 76 54"
	)
	// The client arrives by import (its file is kept), is edited by hand,
	// gets a contact person, and shows up again in a later analysis, as an
	// error that quotes its email.
	file := "Prénom;Nom;Courriel;Langue;Téléphone\r\nZerbinetta;" + name + ";" + email + ";fr;" + phone + "\r\n" +
		"Jan;Peeters;jan@example.be;nl;\r\n"
	imp := a.upload(editor, "clients.csv", []byte(file), "lang", "fr").expect(t, http.StatusCreated)
	if a.execute(admin, imp.str("id"), map[string]any{"mode": "create_only"}).str("status") != "executed" {
		t.Fatal("import did not run")
	}
	if err := a.svc.Reads.WaitCaughtUp(context.Background(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	search := a.do("GET", "/v1/clients?q="+name, editor, nil).expect(t, 200)
	if len(search.items()) != 1 {
		t.Fatalf("imported client not found: %s", search.raw)
	}
	id := field(search.items()[0], "id")
	a.do("PATCH", "/v1/clients/"+id, editor, map[string]any{"display_name": "Chère Zerbinetta " + name}, "If-Match", "1").expect(t, 200)
	a.do("POST", "/v1/clients/"+id+"/contact-persons", editor, map[string]any{"first_name": "Ottavio", "last_name": name,
		"email": "ottavio." + email}).expect(t, 201)
	dup := "Courriel;Nom\r\nnew@example.be;Neuf\r\nNEW@example.be;" + name + "\r\n" + email + ";" + name + "\r\n" + email + ";" + name + "\r\n"
	a.upload(editor, "again.csv", []byte(dup), "lang", "fr").expect(t, http.StatusCreated)

	a.do("POST", "/v1/clients/"+id+"/erase", editor, map[string]any{"reason": "GDPR request 2026-17"}).expect(t, http.StatusForbidden)
	a.do("POST", "/v1/clients/"+id+"/erase", admin, map[string]any{}).expect(t, http.StatusUnprocessableEntity)
	erased := a.do("POST", "/v1/clients/"+id+"/erase", admin, map[string]any{"reason": "GDPR request 2026-17"}).expect(t, 200)
	a.do("POST", "/v1/clients/"+id+"/erase", admin, map[string]any{"reason": "again"}).expect(t, http.StatusGone)
	a.do("PATCH", "/v1/clients/"+id, editor, map[string]any{"phone": phone}, "If-Match", erased.str("version")).expect(t, http.StatusGone)

	got := a.do("GET", "/v1/clients/"+id+"?min_position="+erased.str("position"), editor, nil).expect(t, 200)
	if got.str("status") != "erased" || got.str("email") != "" || got.str("last_name") != "" || len(got.list("contact_persons")) != 0 {
		t.Errorf("erased client reads %s", got.raw)
	}
	history := a.do("GET", "/v1/clients/"+id+"/history", editor, nil).expect(t, 200)
	entries := history.items()
	if field(entries[0], "personal_data") != "erased" || field(entries[len(entries)-1], "event") != "ClientErased" ||
		field(entries[len(entries)-1], "reason") != "GDPR request 2026-17" {
		t.Errorf("timeline after erasure: %s", history.raw)
	}
	a.do("GET", "/v1/imports/"+imp.str("id")+"/rejected.csv", editor, nil).expect(t, http.StatusGone)
	// Its email is free again.
	a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Other", "last_name": "Person", "email": email}).expect(t, 201)
	a.do("POST", "/v1/clients/"+id+"/restore", editor, nil).expect(t, http.StatusGone)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.svc.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The new client holds the same email; look for the erased one's other
	// data, and for its contact's email.
	for _, needle := range []string{name, "Zerbinetta", "ottavio", phone, "470 98 76 54", "470987654", "ottavio." + email} {
		for _, hit := range grepDatabase(t, conn, needle) {
			t.Errorf("%q still readable in %s", needle, hit)
		}
	}
	a.verify()
}

// grepDatabase searches every table of the database, text and binary
// columns alike, for needle (case-insensitive), and names the tables that
// hold it.
func grepDatabase(t *testing.T, conn *pgx.Conn, needle string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return pgx.Identifier{schema, name}.Sanitize(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	for _, table := range tables {
		var n int
		// A row as text covers every column; bytea shows as hex there, so
		// those columns are searched as bytes below.
		q := `SELECT count(*) FROM ` + table + ` t WHERE t::text ILIKE '%' || $1 || '%'`
		if err := conn.QueryRow(ctx, q, needle).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			hits = append(hits, table)
		}
	}
	for _, col := range byteaColumns(t, conn) {
		var n int
		q := `SELECT count(*) FROM ` + col[0] + ` WHERE position(convert_to($1, 'UTF8') IN ` + col[1] + `) > 0
			OR position(convert_to(lower($1), 'UTF8') IN ` + col[1] + `) > 0`
		if err := conn.QueryRow(ctx, q, needle).Scan(&n); err != nil {
			t.Fatalf("search %s.%s: %v", col[0], col[1], err)
		}
		if n > 0 {
			hits = append(hits, col[0]+"."+col[1])
		}
	}
	return hits
}

func byteaColumns(t *testing.T, conn *pgx.Conn) [][2]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT table_schema, table_name, column_name FROM information_schema.columns
		WHERE data_type = 'bytea' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var schema, table, column string
		err := r.Scan(&schema, &table, &column)
		return [2]string{pgx.Identifier{schema, table}.Sanitize(), pgx.Identifier{column}.Sanitize()}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func TestStatsCountClientsImportsAndLag(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("stats")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]
	list := a.do("POST", "/v1/lists", editor, map[string]any{"name": "Newsletter"}).expect(t, 201).str("id")
	manual := a.do("POST", "/v1/clients", editor, marie("manual@example.be")).expect(t, 201).str("id")
	gone := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Jan", "last_name": "Peeters",
		"email": "jan@example.be", "language": "nl"}).expect(t, 201).str("id")
	a.do("PUT", "/v1/clients/"+manual+"/lists/"+list, editor, nil).expect(t, 200)
	a.do("DELETE", "/v1/clients/"+gone, editor, nil).expect(t, 200)
	file := "Courriel;Langue\r\none@example.be;fr\r\ntwo@example.be;nl\r\nthree@example.be;en\r\n"
	imp := a.upload(editor, "three.csv", []byte(file), "lang", "fr").expect(t, http.StatusCreated)
	a.execute(admin, imp.str("id"), map[string]any{"mode": "create_only", "lists": []any{map[string]any{"id": list}}})
	undone := a.do("POST", "/v1/imports/"+imp.str("id")+"/undo", admin, nil).expect(t, 200)

	st := a.do("GET", "/v1/stats?min_position="+undone.str("position"), tokens[domain.RoleViewer], nil).expect(t, 200)
	want := map[string]string{
		"clients.total": "5", "clients.by_status.active": "1", "clients.by_status.deleted": "4",
		"clients.by_source.manual": "1", "clients.by_source.import": "", "clients.by_language.fr": "1", "clients.by_language.nl": "",
	}
	for path, v := range want {
		if got := st.str(strings.Split(path, ".")...); got != v {
			t.Errorf("%s = %q, want %q: %s", path, got, v, st.raw)
		}
	}
	lists := st.list("clients", "by_list")
	if len(lists) != 1 || field(lists[0], "name") != "Newsletter" || field(lists[0], "clients") != "1" {
		t.Errorf("by_list %v", lists)
	}
	months := st.list("imports_by_month")
	if len(months) != 1 || field(months[0], "executed") != "1" || field(months[0], "rows_created") != "3" ||
		field(months[0], "undone") != "1" || field(months[0], "rows_undone") != "3" || field(months[0], "month") != time.Now().UTC().Format("2006-01") {
		t.Errorf("imports by month %v", months)
	}
	if len(st.list("projections")) == 0 {
		t.Errorf("no projection lag: %s", st.raw)
	}
	a.verify()
}

// verify waits until the projections have applied the whole log, then
// checks every read model against the log folded afresh.
func (a *app) verify() {
	a.t.Helper()
	ctx := context.Background()
	if err := a.svc.Reads.WaitCaughtUp(ctx, 20*time.Second); err != nil {
		a.t.Fatalf("projections did not catch up: %v", err)
	}
	err := a.svc.Verifier.Verify(ctx, nil, func(d postgres.Difference) {
		a.t.Errorf("verify: %s %s: log %q, read model %q", d.Stream, d.Field, d.LogValue, d.ReadModelValue)
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

func TestReplayRebuildsWhileServing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("replay")
	admin, editor := tokens[domain.RoleAdmin], tokens[domain.RoleEditor]
	list := a.do("POST", "/v1/lists", editor, map[string]any{"name": "Newsletter"}).expect(t, 201).str("id")
	file := "Courriel;Nom;Langue\r\n"
	for i := range 300 {
		file += fmt.Sprintf("client%03d@example.be;Nom %d;fr\r\n", i, i)
	}
	imp := a.upload(editor, "many.csv", []byte(file), "lang", "fr").expect(t, http.StatusCreated)
	a.execute(admin, imp.str("id"), map[string]any{"mode": "create_only", "lists": []any{map[string]any{"id": list}}})
	id := a.do("POST", "/v1/clients", editor, marie("marie@example.be")).expect(t, 201).str("id")
	a.do("PATCH", "/v1/clients/"+id, editor, map[string]any{"phone": "+32 81 22 33 44"}, "If-Match", "1").expect(t, 200)
	a.do("POST", "/v1/clients/"+id+"/erase", admin, map[string]any{"reason": "request 12"}).expect(t, 200)
	a.verify()
	before := a.do("GET", "/v1/stats", editor, nil).expect(t, 200).body["clients"]

	// Writes and reads go on during the rebuild.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writes := make(chan error, 1)
	go func() {
		defer close(writes)
		for i := 0; ctx.Err() == nil; i++ {
			r := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "During", "last_name": "Replay",
				"email": fmt.Sprintf("during%d@example.be", i)})
			if r.status != 201 {
				writes <- fmt.Errorf("write during replay: %s", r.raw)
				return
			}
			if got := a.do("GET", "/v1/clients/"+id, editor, nil); got.status != 200 {
				writes <- fmt.Errorf("read during replay: %s", got.raw)
				return
			}
		}
	}()
	for _, p := range projections.All() {
		var calls int
		if err := a.svc.Rebuilder.Rebuild(context.Background(), p, func(done, total int64) { calls++ }); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
		if calls == 0 {
			t.Errorf("rebuild %s reported no progress", p.Name())
		}
	}
	cancel()
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	// The live projectors go on on the new tables.
	later := a.do("POST", "/v1/clients", editor, marie("after@example.be")).expect(t, 201)
	a.do("GET", "/v1/clients/"+later.str("id")+"?min_position="+later.str("position"), editor, nil).expect(t, 200)
	a.verify()
	after := a.do("GET", "/v1/stats", editor, nil).expect(t, 200).body["clients"].(map[string]any)
	if got, want := after["by_source"].(map[string]any)["import"], before.(map[string]any)["by_source"].(map[string]any)["import"]; got != want {
		t.Errorf("imported clients after replay %v, before %v", got, want)
	}
	erased := a.do("GET", "/v1/clients/"+id, editor, nil).expect(t, 200)
	if erased.str("status") != "erased" || erased.str("email") != "" {
		t.Errorf("erased client after replay: %s", erased.raw)
	}
	// The rebuilt table keeps the live one's storage settings (the room
	// left on each page for updates).
	var options []string
	if err := a.svc.Pool.QueryRow(context.Background(), `SELECT reloptions FROM pg_class WHERE oid = 'rm_clients'::regclass`).Scan(&options); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(options, "fillfactor=50") {
		t.Errorf("rm_clients after replay has options %v", options)
	}
	// Running it again (as after an interruption) is harmless.
	if err := a.svc.Rebuilder.Rebuild(context.Background(), projections.Clients{}, nil); err != nil {
		t.Fatal(err)
	}
	a.verify()
}
