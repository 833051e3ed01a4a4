package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Clients maintains rm_clients: one row per client with its current state.
//
// A bulk import brings its events in large batches, so the projection
// applies a batch set-based: the clients it registers are folded in memory
// and become one INSERT (client_rows.go); of the other clients, deletions
// or list additions become one UPDATE each. Every other event keeps its own
// statement; all of them go to the server in one round trip.
type Clients struct{}

func (Clients) Tables() []string {
	return []string{"rm_clients", "rm_client_counts", "rm_client_words"}
}

func (Clients) Name() string { return "clients" }

// Summaries fills rm_client_counts from rm_clients, as its triggers would
// have, from the same keys, expanding each group of alike rows once
// (migrations 0005 and 0011), and the search's words (migrations 0018 and
// 0021).
func (Clients) Summaries() []string {
	return []string{`INSERT INTO rm_client_counts (tenant_id, dimension, key, n)
		SELECT g.tenant_id, k.dimension, k.key, sum(g.n)::bigint
		FROM (SELECT tenant_id, status, origin, language, list_ids, count(*) AS n
		      FROM rm_clients GROUP BY 1, 2, 3, 4, 5) AS g,
		     rm_client_count_keys(g.status, g.origin, g.language, g.list_ids) k
		GROUP BY 1, 2, 3`,
		`INSERT INTO rm_client_words (tenant_id, word, sort_name, id)
		SELECT r.tenant_id, w, r.sort_name, r.id
		FROM rm_clients r, rm_client_word_set(r.search_words) AS w`}
}

func (Clients) StreamTypes() []string { return []string{domain.StreamClient} }

func (Clients) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	rows, rest := foldNewClients(events)
	var stmts statements
	queueClientRows(&stmts, rows)
	queueUpdates(&stmts, rest)
	return stmts.send(ctx, tx)
}

// Load is the first pass of a rebuild into fresh tables that have no
// index yet: the rows of the clients registered in the batch, folded with
// their events in it, go in with COPY. The events of clients registered in
// earlier batches are returned: they need to find their row, which the
// rebuild applies once the primary key is built.
func (Clients) Load(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) ([]domain.RecordedEvent, error) {
	rows, rest := foldNewClients(events)
	if err := copyClientRows(ctx, tx, rows); err != nil {
		return nil, err
	}
	return rest, nil
}

// Starts: a registration begins the row foldNewClients writes.
func (Clients) Starts(eventType string) bool {
	return eventType == domain.ClientRegistered{}.EventName()
}

// queueUpdates queues the statements of events of clients that have a row.
func queueUpdates(stmts *statements, events []domain.RecordedEvent) {
	for _, wave := range waves(events) {
		queueWave(stmts, wave)
	}
	queueImportLinks(stmts, events)
}

// queueImportLinks records on each client the imports that touched it (the
// ?import= filter), once per client and import, so replays change nothing.
// A client may meet several imports in one batch: they are grouped per
// client first, since an UPDATE ... FROM joining one row twice would apply
// only one of them.
func queueImportLinks(stmts *statements, events []domain.RecordedEvent) {
	type link struct{ tenant, client, imp uuid.UUID }
	seen := map[link]bool{}
	var tenants, clients, imports [][16]byte
	for _, e := range events {
		l := link{e.TenantID, e.StreamID, e.ImportID}
		if e.StreamType != domain.StreamClient || e.ImportID == uuid.Nil || seen[l] {
			continue
		}
		if strings.HasPrefix(e.CausationID, domain.UndoCausationPrefix) {
			continue // an undo only touches clients its import touched: linked already
		}
		seen[l] = true
		tenants, clients, imports = append(tenants, l.tenant), append(clients, l.client), append(imports, l.imp)
	}
	if len(clients) == 0 {
		return
	}
	stmts.add("link clients to their imports", `UPDATE rm_clients c
		SET import_ids = c.import_ids || ARRAY(SELECT x.imp FROM unnest(u.imps) WITH ORDINALITY AS x(imp, n)
			WHERE NOT (x.imp = ANY(c.import_ids)) ORDER BY x.n)
		FROM (SELECT tenant_id, id, array_agg(imp ORDER BY n) AS imps
			FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS l(tenant_id, id, imp, n)
			GROUP BY tenant_id, id) AS u
		WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND NOT (u.imps <@ c.import_ids)`, tenants, clients, imports)
}

// waves regroups a batch so that events of one kind can be applied together
// without changing the result. Every event touches only its own client's
// row, so events of different clients commute; only each client's own order
// matters. Wave k holds the k-th event of every client in the batch, in log
// order: a client appears at most once per wave, so the events of a wave can
// be applied in any order, and applying the waves one after the other keeps
// each client's events in log order. An import (each client registered,
// then put on lists) thus becomes one wave of registrations, then one wave
// per list.
func waves(events []domain.RecordedEvent) [][]domain.RecordedEvent {
	type client struct{ tenant, id uuid.UUID }
	seen := map[client]int{}
	var out [][]domain.RecordedEvent
	for _, e := range events {
		if e.StreamType != domain.StreamClient {
			continue
		}
		c := client{e.TenantID, e.StreamID}
		k := seen[c]
		seen[c] = k + 1
		if k == len(out) {
			out = append(out, nil)
		}
		out[k] = append(out[k], e)
	}
	return out
}

// queueWave queues the statements of one wave; its events are all of
// different clients, so their order does not matter.
func queueWave(stmts *statements, wave []domain.RecordedEvent) {
	var changed, deleted, addedToList []domain.RecordedEvent
	for _, e := range wave {
		switch e.Event.(type) {
		case domain.ClientDetailsChanged:
			changed = append(changed, e)
		case domain.ClientDeleted:
			deleted = append(deleted, e)
		case domain.ClientAddedToList:
			addedToList = append(addedToList, e)
		default:
			queueEvent(stmts, e)
		}
	}
	queueDetailChanges(stmts, changed)
	queueDeletions(stmts, deleted)
	queueListAdditions(stmts, addedToList)
}

// queueEvent queues the statement of one event of the kinds that are not
// applied set-based.
func queueEvent(stmts *statements, e domain.RecordedEvent) {
	switch ev := e.Event.(type) {
	case domain.ClientRestored:
		updateClient(stmts, e, `status = 'active', deleted_at = NULL`)
	case domain.ClientErased:
		updateClient(stmts, e, eraseClientSet)
	case domain.ContactPersonAdded:
		contact := maps.Clone(ev.Details)
		if contact == nil {
			contact = map[string]string{}
		}
		contact["id"] = ev.ContactID.String()
		updateClient(stmts, e, `contact_persons = contact_persons || jsonb_build_array($6::jsonb)`, contact)
	case domain.ContactPersonChanged:
		set, cleared := splitChanges(ev.Changes)
		updateClient(stmts, e, `contact_persons = (
			SELECT coalesce(jsonb_agg(CASE WHEN c->>'id' = $6 THEN (c || $7::jsonb) - $8::text[] ELSE c END ORDER BY n), '[]')
			FROM jsonb_array_elements(contact_persons) WITH ORDINALITY AS x(c, n))`,
			ev.ContactID.String(), set, cleared)
	case domain.ContactPersonRemoved:
		updateClient(stmts, e, `contact_persons = (
			SELECT coalesce(jsonb_agg(c ORDER BY n), '[]')
			FROM jsonb_array_elements(contact_persons) WITH ORDINALITY AS x(c, n) WHERE c->>'id' <> $6)`,
			ev.ContactID.String())
	case domain.ClientRemovedFromList:
		updateClient(stmts, e, `list_ids = array_remove(list_ids, $6)`, ev.ListID)
	default:
		queueSourceEvent(stmts, e) // sources.go
	}
}

// eraseClientSet blanks every personal column; the row stays, with its id,
// kind and dates, so lists of erased clients and timelines still add up.
var eraseClientSet = func() string {
	set := `status = 'erased', custom_fields = '{}', contact_persons = '[]', list_ids = '{}'`
	for _, f := range domain.ClientFields {
		if f != domain.FieldKind {
			set += ", " + string(f) + " = ''"
		}
	}
	return set
}()

// insertClientRowsSQL inserts folded rows, one per element of its arrays
// (clientRowColumns' order; the array columns as array literals, the JSON
// ones as text). The statement's text never changes, whatever the number
// of rows. A row that exists already (a batch applied again) is replaced
// only if it is behind: the folded row holds the client's whole stream up
// to its version.
var insertClientRowsSQL = func() string {
	var params, values, set []string
	for i, col := range clientRowColumns {
		typ, value := "text", "r."+col
		switch col {
		case "tenant_id", "id":
			typ = "uuid"
		case "version":
			typ = "int"
		case "position":
			typ = "bigint"
		case "created_at", "updated_at", "deleted_at":
			typ = "timestamptz"
		case "external_refs", "custom_fields", "contact_persons":
			value += "::jsonb"
		case "sources", "removed_at_source":
			value += "::text[]"
		case "list_ids", "import_ids":
			value += "::uuid[]"
		}
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, typ))
		values = append(values, value)
		if col != "tenant_id" && col != "id" {
			set = append(set, col+" = excluded."+col)
		}
	}
	cols := strings.Join(clientRowColumns, ", ")
	return `INSERT INTO rm_clients (` + cols + `)
		SELECT ` + strings.Join(values, ", ") + `
		FROM unnest(` + strings.Join(params, ", ") + `) WITH ORDINALITY AS r(` + cols + `, n)
		ORDER BY r.n
		ON CONFLICT (tenant_id, id) DO UPDATE SET ` + strings.Join(set, ", ") + `
		WHERE rm_clients.version < excluded.version`
}()

// queueClientRows queues the insert of the rows of the clients a batch
// registers.
func queueClientRows(stmts *statements, rows []*clientRow) {
	if len(rows) == 0 {
		return
	}
	n := len(rows)
	tenants, ids := make([][16]byte, n), make([][16]byte, n)
	versions, positions := make([]int32, n), make([]int64, n)
	created, updated, deleted := make([]time.Time, n), make([]time.Time, n), make([]*time.Time, n)
	text := func() []string { return make([]string, n) }
	status, refs, sources, custom, contacts, lists, imports, origins, removed, access :=
		text(), text(), text(), text(), text(), text(), text(), text(), text(), text()
	fields := make([][]string, len(domain.ClientFields))
	for i := range fields {
		fields[i] = text()
	}
	for i, r := range rows {
		tenants[i], ids[i], versions[i], positions[i] = r.tenant, r.id, int32(r.version), r.position
		created[i], updated[i], deleted[i] = r.createdAt, r.updatedAt, r.deletedAt
		status[i], origins[i], access[i] = r.status, r.origin, r.accessStatus
		refs[i], custom[i], contacts[i] = r.jsonText()
		sources[i], removed[i] = arrayLiteral(r.sources, identity), arrayLiteral(r.removedAt, identity)
		lists[i], imports[i] = arrayLiteral(r.lists, uuid.UUID.String), arrayLiteral(r.imports, uuid.UUID.String)
		for j, v := range r.fields {
			fields[j][i] = v
		}
	}
	args := []any{tenants, ids, versions, positions, status}
	for _, column := range fields {
		args = append(args, column)
	}
	args = append(args, refs, sources, custom, contacts, lists, created, updated, deleted, imports, origins, removed, access)
	stmts.add(fmt.Sprintf("insert %d new clients", n), insertClientRowsSQL, args...)
}

func identity(s string) string { return s }

var copyClientRowsSQL = `COPY rm_clients (` + strings.Join(clientRowColumns, ", ") + `) FROM STDIN BINARY`

// copyClientRows writes the rows of the clients a batch registers with
// COPY, into tables that cannot hold them yet (a rebuild's).
func copyClientRows(ctx context.Context, tx pgx.Tx, rows []*clientRow) error {
	if len(rows) == 0 {
		return nil
	}
	c := newBinaryCopy(512 * len(rows))
	for _, r := range rows {
		r.writeCopy(c)
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.end()), copyClientRowsSQL); err != nil {
		return fmt.Errorf("copy %d new clients: %w", len(rows), err)
	}
	return nil
}

// originOf says where a client came from, for the dashboard: by hand, from
// a file, or from the source a sync brought it from.
func originOf(e domain.RecordedEvent, ev domain.ClientRegistered) string {
	switch {
	case e.ImportID != uuid.Nil:
		return "import"
	case e.SyncRunID != uuid.Nil && len(ev.ExternalRefs) > 0:
		return ev.ExternalRefs[0].Source
	case e.SyncRunID != uuid.Nil:
		return "sync"
	}
	return "manual"
}

// The set-based updates join the rows with one element per event ($1..$5:
// tenant, client, version, position, time, like updateClient) and carry the
// same guard: a row already at or past the event's version is left alone.
const (
	deleteClientsSQL = `UPDATE rm_clients c
		SET status = 'deleted', deleted_at = u.at, version = u.version, position = u.position, updated_at = u.at
		FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::bigint[], $5::timestamptz[]) AS u(tenant_id, id, version, position, at)
		WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND c.version < u.version`
	addClientsToListsSQL = `UPDATE rm_clients c
		SET list_ids = CASE WHEN u.list_id = ANY(c.list_ids) THEN c.list_ids ELSE array_append(c.list_ids, u.list_id) END,
			version = u.version, position = u.position, updated_at = u.at
		FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::bigint[], $5::timestamptz[], $6::uuid[]) AS u(tenant_id, id, version, position, at, list_id)
		WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND c.version < u.version`
)

// queueDeletions and queueListAdditions rely on each client appearing at most
// once (a wave): an UPDATE ... FROM that matched a row twice would apply
// only one of the two, chosen by the server.
func queueDeletions(stmts *statements, events []domain.RecordedEvent) {
	if len(events) == 0 {
		return
	}
	k := keysOf(events)
	stmts.add(describe(events), deleteClientsSQL, k.tenants, k.ids, k.versions, k.positions, k.times)
}

func queueListAdditions(stmts *statements, events []domain.RecordedEvent) {
	if len(events) == 0 {
		return
	}
	k := keysOf(events)
	lists := make([][16]byte, len(events))
	for i, e := range events {
		ev, _ := e.Event.(domain.ClientAddedToList) // queueWave sorted them by type
		lists[i] = ev.ListID
	}
	stmts.add(describe(events), addClientsToListsSQL, k.tenants, k.ids, k.versions, k.positions, k.times, lists)
}

// eventKeys holds, one element per event, what every row update needs.
// Ids are sent as [16]byte, which pgx encodes directly; uuid.UUID goes
// through its driver.Valuer, a string per id, which cost more than the
// rest of the statement's encoding.
type eventKeys struct {
	tenants, ids [][16]byte
	versions     []int32
	positions    []int64
	times        []time.Time
}

func keysOf(events []domain.RecordedEvent) eventKeys {
	k := eventKeys{
		tenants: make([][16]byte, len(events)), ids: make([][16]byte, len(events)),
		versions: make([]int32, len(events)), positions: make([]int64, len(events)), times: make([]time.Time, len(events)),
	}
	for i, e := range events {
		k.tenants[i], k.ids[i] = e.TenantID, e.StreamID
		k.versions[i], k.positions[i], k.times[i] = int32(e.StreamVersion), e.Position, e.OccurredAt
	}
	return k
}

// describe names what a set-based statement applies, for its error message:
// the client when there is one (ids are not personal data), else a count.
func describe(events []domain.RecordedEvent) string {
	if len(events) == 1 {
		return fmt.Sprintf("apply %s to client %s", events[0].EventName, events[0].StreamID)
	}
	return fmt.Sprintf("apply %d %s events", len(events), events[0].EventName)
}

// queueDetailChanges applies a wave's detail changes one statement per set
// of changed fields: a sync or an import changes the same few fields of
// many clients. Like the other set-based updates, $1..$5 are tenant,
// client, version, position and time, one element per event; then the
// custom fields set (a JSON object) and cleared (a JSON array), when any
// event of the group changes them, then one text array per changed field.
func queueDetailChanges(stmts *statements, events []domain.RecordedEvent) {
	type shape struct {
		fields string // one byte per domain.ClientFields entry: 1 when changed
		custom bool
	}
	groups := map[shape][]domain.RecordedEvent{}
	var order []shape
	for _, e := range events {
		ev, _ := e.Event.(domain.ClientDetailsChanged) // queueWave sorted them by type
		mask := make([]byte, len(domain.ClientFields))
		for i, f := range domain.ClientFields {
			if _, ok := ev.Changes[f]; ok {
				mask[i] = 1
			}
		}
		sh := shape{fields: string(mask), custom: len(ev.CustomFields) > 0}
		if _, ok := groups[sh]; !ok {
			order = append(order, sh)
		}
		groups[sh] = append(groups[sh], e)
	}
	for _, sh := range order {
		group := groups[sh]
		k := keysOf(group)
		args := []any{k.tenants, k.ids, k.versions, k.positions, k.times}
		names := []string{"tenant_id", "id", "version", "position", "at"}
		params := []string{"$1::uuid[]", "$2::uuid[]", "$3::int[]", "$4::bigint[]", "$5::timestamptz[]"}
		var set []string
		if sh.custom {
			customSet, customCleared := make([]string, len(group)), make([]string, len(group))
			for i, e := range group {
				ev, _ := e.Event.(domain.ClientDetailsChanged)
				customSet[i], customCleared[i] = splitChangesJSON(ev.CustomFields)
			}
			set = append(set, `custom_fields = (c.custom_fields || u.custom_set::jsonb) - ARRAY(SELECT jsonb_array_elements_text(u.custom_cleared::jsonb))`)
			names, params = append(names, "custom_set", "custom_cleared"), append(params, "$6::text[]", "$7::text[]")
			args = append(args, customSet, customCleared)
		}
		for i, f := range domain.ClientFields {
			if sh.fields[i] == 0 {
				continue
			}
			values := make([]string, len(group))
			for j, e := range group {
				ev, _ := e.Event.(domain.ClientDetailsChanged)
				values[j] = ev.Changes[f]
			}
			set = append(set, fmt.Sprintf("%s = u.%s", f, f))
			names, params = append(names, string(f)), append(params, fmt.Sprintf("$%d::text[]", len(args)+1))
			args = append(args, values)
		}
		set = append(set, "version = u.version", "position = u.position", "updated_at = u.at")
		stmts.add(describe(group), `UPDATE rm_clients c SET `+strings.Join(set, ", ")+`
			FROM unnest(`+strings.Join(params, ", ")+`) AS u(`+strings.Join(names, ", ")+`)
			WHERE c.tenant_id = u.tenant_id AND c.id = u.id AND c.version < u.version`, args...)
	}
}

// splitChangesJSON is splitChanges as the JSON texts a set-based update
// takes.
func splitChangesJSON(changes map[string]string) (set, cleared string) {
	s, c := splitChanges(changes)
	// Maps and slices of strings: marshalling cannot fail.
	rawSet, _ := json.Marshal(s)
	rawCleared, _ := json.Marshal(c)
	return string(rawSet), string(rawCleared)
}

// updateClient queues a SET clause for the client's row, only if the row is
// behind this event, which keeps a replayed event from applying twice.
// $1..$5 are tenant, client, version, position and time; args follow.
func updateClient(stmts *statements, e domain.RecordedEvent, set string, args ...any) {
	q := `UPDATE rm_clients SET ` + set + `, version = $3, position = $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND version < $3`
	all := append([]any{e.TenantID, e.StreamID, e.StreamVersion, e.Position, e.OccurredAt}, args...)
	stmts.add(describe([]domain.RecordedEvent{e}), q, all...)
}

// splitChanges separates new values from cleared keys ("" means cleared).
func splitChanges[K ~string](changes map[K]string) (map[string]string, []string) {
	set := map[string]string{}
	cleared := []string{}
	for k, v := range changes {
		if v == "" {
			cleared = append(cleared, string(k))
		} else {
			set[string(k)] = v
		}
	}
	slices.Sort(cleared)
	return set, cleared
}
