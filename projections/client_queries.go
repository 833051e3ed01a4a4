package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const clientColumns = `id, version, position, status, kind, first_name, last_name, company_name, display_name,
	email, language, phone, vat_number, street, house_number, box, postal_code, city, country,
	external_refs, custom_fields, contact_persons, list_ids, created_at, updated_at, deleted_at, sort_name,
	removed_at_source, access_status, notes`

// scanClient reads clientColumns, then into more what follows them.
func scanClient(row pgx.Row, more ...any) (ClientView, string, error) {
	var c ClientView
	var sortName string
	a := &c.Address
	err := row.Scan(append([]any{&c.ID, &c.Version, &c.Position, &c.Status, &c.Kind, &c.FirstName, &c.LastName, &c.CompanyName,
		&c.DisplayName, &c.Email, &c.Language, &c.Phone, &c.VATNumber, &a.Street, &a.HouseNumber, &a.Box,
		&a.PostalCode, &a.City, &a.Country, &c.ExternalRefs, &c.CustomFields, &c.ContactPersons, &c.Lists,
		&c.CreatedAt, &c.UpdatedAt, &c.DeletedAt, &sortName, &c.RemovedAtSource, &c.AccessStatus, &c.Notes}, more...)...)
	return c, sortName, err
}

// Client returns one client of the tenant.
func (r *Queries) Client(ctx context.Context, tenantID, id uuid.UUID) (ClientView, error) {
	c, _, err := scanClient(r.db.QueryRow(ctx, `SELECT `+clientColumns+` FROM rm_clients WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, domain.ErrClientNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read client: %w", err)
	}
	return c, nil
}

type clientCursor struct {
	Sort     string     `json:"o,omitempty"` // the order it pages through
	SortName string     `json:"s,omitempty"`
	Updated  *time.Time `json:"u,omitempty"`
	ID       uuid.UUID  `json:"i"`
}

// walkWindow is how many clients of the list's order a filtered search
// looks at before it changes plans (see SearchClients).
const walkWindow = 2000

func (r *Queries) window() int {
	if r.walkWindow > 0 {
		return r.walkWindow
	}
	return walkWindow
}

// SearchClients pages through the tenant's clients in a stable order (name
// or last update, then id) with keyset pagination, so pages neither skip
// nor repeat rows while others write.
//
// Without a filter a page is a walk of the (tenant, status, key, id) index;
// with one, see find.
func (r *Queries) SearchClients(ctx context.Context, tenantID uuid.UUID, f ClientFilter) (ClientPage, error) {
	limit := PageLimit(f.Limit)
	if f.Sort == "" {
		f.Sort = "name"
	}
	key, desc, ok := sortKey(f.Sort)
	if !ok {
		return ClientPage{}, fmt.Errorf("%w: sort must be one of %s", ErrInvalidSort, strings.Join(ClientSorts, ", "))
	}
	s := clientSearch{key: key, cmp: ">", dir: "", need: limit + 1, window: r.window(), wordLimit: r.words()}
	if desc {
		s.cmp, s.dir = "<", " DESC"
	}
	s.args = []any{tenantID}
	switch f.Status {
	case "", "active":
		s.statuses = []string{"active"}
	case "all":
		s.statuses = []string{"active", "deleted", "erased"}
	default:
		s.statuses = []string{f.Status}
	}
	s.terms = searchTerms(f.Query)
	for _, t := range s.terms {
		s.filters = append(s.filters, "search_words LIKE "+s.arg("% "+escapeLike(t)+"%"))
	}
	if f.ListID != nil {
		// The array indexes leave empty arrays out (migration 0023).
		s.filters = append(s.filters, "list_ids @> ARRAY["+s.arg(*f.ListID)+"::uuid] AND list_ids <> '{}'")
	}
	if f.Source != "" {
		s.filters = append(s.filters, "sources @> ARRAY["+s.arg(f.Source)+"::text] AND sources <> '{}'")
	}
	if f.ImportID != nil {
		s.filters = append(s.filters, "import_ids @> ARRAY["+s.arg(*f.ImportID)+"::uuid]")
	}
	if f.Access != "" {
		s.filters = append(s.filters, "access_status = "+s.arg(f.Access))
	}
	var after *listPosition
	if f.Cursor != "" {
		var c clientCursor
		if err := DecodeCursor(f.Cursor, &c); err != nil {
			return ClientPage{}, err
		}
		if c.Sort == "" {
			c.Sort = "name" // cursors from before sorting
		}
		if c.Sort != f.Sort || (key == "updated_at") != (c.Updated != nil) {
			return ClientPage{}, ErrInvalidCursor
		}
		after = &listPosition{key: c.SortName, id: c.ID}
		if c.Updated != nil {
			after.key = *c.Updated
		}
	}

	found, err := r.find(ctx, &s, after)
	if err != nil {
		return ClientPage{}, fmt.Errorf("search clients: %w", err)
	}
	page := ClientPage{Items: make([]ClientView, 0, min(len(found), limit))}
	for i, c := range found {
		if i == limit {
			prev := found[i-1]
			cur := clientCursor{Sort: f.Sort, SortName: prev.sortName, ID: prev.ID}
			if key == "updated_at" {
				cur.SortName, cur.Updated = "", &prev.UpdatedAt
			}
			page.NextCursor = EncodeCursor(cur)
			break
		}
		page.Items = append(page.Items, c.ClientView)
	}
	return page, nil
}

// searchTerms are the words a query looks for: runs of letters and digits,
// lower-cased, as migration 0018 cuts a client's names, email and VAT
// number into words. A client matches when each term begins one of its
// words. A Belgian enterprise number, however written, is one term: its
// ten digits, as vat_number holds them.
func searchTerms(q string) []string {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	if vat, err := domain.NormalizeVATNumber("q", q); err == nil {
		return []string{vat}
	}
	terms := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	slices.Sort(terms)
	return slices.Compact(terms)
}

// wordLimit is how many words beginning with one query word a search merges
// in name order; a query word that begins more (a letter or two, "client"
// of every email) is looked for by walking the list instead.
const wordLimit = 32

func (r *Queries) words() int {
	if r.wordLimit > 0 {
		return r.wordLimit
	}
	return wordLimit
}

// find returns the clients of a page, and the next one when another page
// follows.
//
// A query alone, in name order, is answered from rm_client_words: the
// clients that have a word are a range of its index in name order, so when
// a query word begins a few words (up to wordLimit), the page is those
// ranges merged, each client checked for the other query words, until the
// page is full (the longest query word leads; one nobody has means no
// page). Otherwise (only short query words, the last-update order, or a
// list, source, import or access filter too), the search walks the first
// walkWindow clients of the order; when that gives fewer than a page, the
// matches among the rest are few (fewer than one in forty in what it saw),
// and it collects those (among the clients having a word that begins the
// longest query word) and sorts them.
// docs/list-query-plans.md shows the plans.
func (r *Queries) find(ctx context.Context, s *clientSearch, after *listPosition) ([]sortedClient, error) {
	if len(s.filters) == 0 {
		found, _, err := s.walk(ctx, r.db, after, s.need, false)
		return found, err
	}
	if len(s.terms) > 0 {
		words, err := s.words(ctx, r.db)
		if err != nil {
			return nil, err
		}
		// The longest term likely matches fewest clients: it leads.
		lead := -1
		for i, w := range words {
			if w != nil && len(w) == 0 {
				return nil, nil
			}
			if w != nil && (lead < 0 || len(s.terms[i]) > len(s.terms[lead]) ||
				len(s.terms[i]) == len(s.terms[lead]) && len(w) < len(words[lead])) {
				lead = i
			}
		}
		if lead >= 0 && s.key == "sort_name" && len(s.filters) == len(s.terms) {
			return s.merge(ctx, r.db, after, words, lead)
		}
	}
	found, last, err := s.walk(ctx, r.db, after, s.window, true)
	if err == nil && len(found) < s.need && last != nil {
		var rest []sortedClient
		rest, err = s.collect(ctx, r.db, last, s.need-len(found))
		found = append(found, rest...)
	}
	return found, err
}

// prefixRange is the range of words that begin with a term, in byte
// order: from the term to the term followed by the last code point.
func prefixRange(term string) (lo, hi string) { return term, term + "\U0010FFFF" }

// words finds, for each query term, the words beginning with it that the
// tenant's clients have, whatever their status: each is the next one of the
// index after the previous (a loose scan, one index descent a word). A
// term's list is nil when it begins more than wordLimit words.
func (s *clientSearch) words(ctx context.Context, db Querier) ([][]string, error) {
	los, his := make([]string, len(s.terms)), make([]string, len(s.terms))
	for i, t := range s.terms {
		los[i], his[i] = prefixRange(t)
	}
	rows, err := db.Query(ctx, `WITH RECURSIVE w(i, hi, word, n) AS (
			SELECT t.i, t.hi,
				(SELECT x.word FROM rm_client_words x WHERE x.tenant_id = $1
				 AND x.word >= t.lo AND x.word < t.hi ORDER BY x.word LIMIT 1), 1
			FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(lo, hi, i)
			UNION ALL
			SELECT w.i, w.hi,
				(SELECT x.word FROM rm_client_words x WHERE x.tenant_id = $1
				 AND x.word > w.word AND x.word < w.hi ORDER BY x.word LIMIT 1), w.n + 1
			FROM w WHERE w.word IS NOT NULL AND w.n <= $4)
		SELECT i, word FROM w WHERE word IS NOT NULL`, s.args[0], los, his, s.wordLimit)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(s.terms))
	for i := range out {
		out[i] = []string{}
	}
	var i int
	var w string
	if _, err := pgx.ForEachRow(rows, []any{&i, &w}, func() error {
		out[i-1] = append(out[i-1], w)
		return nil
	}); err != nil {
		return nil, err
	}
	for i := range out {
		if len(out[i]) > s.wordLimit {
			out[i] = nil
		}
	}
	return out, nil
}

// merge reads the clients having one of the lead term's words in list
// order, one range of rm_client_words' index each, merged (a client having
// two of them comes once), and keeps those of the statuses asked for that
// have the other terms too, until it has a page: the status is looked up on
// the client's row, a term's words are looked up in the same index (one probe
// a client), a term of too many words in the client's search_words. The
// probes are LATERAL subqueries with a LIMIT so that they run client by
// client, in order, and stop with the page (as a semi-join the planner
// would hash every client having a common word).
func (s *clientSearch) merge(ctx context.Context, db Querier, after *listPosition, words [][]string, lead int) ([]sortedClient, error) {
	args := []any{s.args[0], s.statuses}
	keyset := ""
	if after != nil {
		keyset = " AND " + s.after(after, &args)
	}
	parts := make([]string, len(words[lead]))
	for i, w := range words[lead] {
		args = append(args, w)
		parts[i] = fmt.Sprintf(`(SELECT sort_name, id FROM rm_client_words
			WHERE tenant_id = $1 AND word = $%d%s ORDER BY %s)`, len(args), keyset, s.orderBy(""))
	}
	var probes []string
	for i, t := range s.terms {
		switch {
		case i == lead:
		case words[i] != nil:
			args = append(args, words[i])
			probes = append(probes, fmt.Sprintf(`CROSS JOIN LATERAL (SELECT 1 FROM rm_client_words x WHERE x.tenant_id = $1
				AND x.word = ANY($%d) AND x.sort_name = m.sort_name AND x.id = m.id LIMIT 1) p%d`, len(args), i))
		default:
			args = append(args, "% "+escapeLike(t)+"%")
			probes = append(probes, fmt.Sprintf(`CROSS JOIN LATERAL (SELECT 1 FROM rm_clients y WHERE y.tenant_id = $1
				AND y.id = m.id AND y.search_words LIKE $%d LIMIT 1) p%d`, len(args), i))
		}
	}
	// The status last: most clients a lead word gives lack another term,
	// and the words' probes read no row.
	probes = append(probes, `CROSS JOIN LATERAL (SELECT 1 FROM rm_clients y WHERE y.tenant_id = $1
				AND y.status = ANY($2) AND y.sort_name = m.sort_name AND y.id = m.id LIMIT 1) ps`)
	q := `SELECT ` + prefixed("c.", clientColumns) + ` FROM (
			SELECT m.sort_name, m.id FROM (
				SELECT DISTINCT ON (sort_name, id) sort_name, id FROM (` + strings.Join(parts, " UNION ALL ") + `) u
				ORDER BY ` + s.orderBy("") + `) m
			` + strings.Join(probes, "\n") + `
			ORDER BY ` + s.orderBy("m.") + ` LIMIT ` + fmt.Sprint(s.need) + `) m
		JOIN rm_clients c ON c.tenant_id = $1 AND c.id = m.id
		ORDER BY ` + s.orderBy("m.")
	return s.query(ctx, db, q, args)
}

// clientSearch is one SearchClients call's SQL, built from its filter.
type clientSearch struct {
	key      string // the order's column, then id
	cmp, dir string // ">" and "", or "<" and " DESC"
	statuses []string
	filters  []string // conditions beyond tenant, status and cursor
	terms    []string // the query's words (see SearchTerms), each a filter too
	args     []any
	need     int // a page and one more, to know whether another follows
	window   int
	// wordLimit is how many words beginning with one query word a search
	// merges in name order (see find).
	wordLimit int
}

// listPosition is a place in the order: its key's value and id.
type listPosition struct {
	key any
	id  uuid.UUID
}

type sortedClient struct {
	ClientView
	sortName string
}

func (s *clientSearch) position(c sortedClient) *listPosition {
	if s.key == "updated_at" {
		return &listPosition{key: c.UpdatedAt, id: c.ID}
	}
	return &listPosition{key: c.sortName, id: c.ID}
}

func (s *clientSearch) arg(v any) string {
	s.args = append(s.args, v)
	return fmt.Sprintf("$%d", len(s.args))
}

func (s *clientSearch) orderBy(prefix string) string {
	return prefix + s.key + s.dir + ", " + prefix + "id" + s.dir
}

// after is the keyset condition of the rows that follow a position.
func (s *clientSearch) after(pos *listPosition, args *[]any) string {
	*args = append(*args, pos.key, pos.id)
	return "(" + s.key + ", id) " + s.cmp + " ($" + fmt.Sprint(len(*args)-1) + ", $" + fmt.Sprint(len(*args)) + ")"
}

// ordered is the SQL of the first n clients after a position in list
// order, with the given columns: a walk of the (tenant, status, key, id)
// index, or for several statuses one walk each, merged.
func (s *clientSearch) ordered(columns string, after *listPosition, n int, args *[]any) string {
	keyset := ""
	if after != nil {
		keyset = " AND " + s.after(after, args)
	}
	walk := func(status string) string {
		*args = append(*args, status)
		return `SELECT ` + columns + `
			FROM rm_clients WHERE tenant_id = $1 AND status = $` + fmt.Sprint(len(*args)) + keyset +
			` ORDER BY ` + s.orderBy("") + ` LIMIT ` + fmt.Sprint(n)
	}
	if len(s.statuses) == 1 {
		return walk(s.statuses[0])
	}
	parts := make([]string, len(s.statuses))
	for i, st := range s.statuses {
		parts[i] = "(" + walk(st) + ")"
	}
	return `SELECT * FROM (` + strings.Join(parts, " UNION ALL ") + `) u ORDER BY ` + s.orderBy("") + ` LIMIT ` + fmt.Sprint(n)
}

// walk reads the first n clients after a position in list order and keeps
// those that pass the filters. With sentinel, the n-th client read comes
// back too when it does not match, so the caller knows the walk ended at
// its window and not at the end of the list: last is then where it ended.
func (s *clientSearch) walk(ctx context.Context, db Querier, after *listPosition, n int, sentinel bool) ([]sortedClient, *listPosition, error) {
	args := append([]any(nil), s.args...)
	var q string
	if !sentinel {
		q = `SELECT ` + clientColumns + `, true, 0 FROM (` + s.ordered(clientColumns, after, n, &args) + `) o ORDER BY ` + s.orderBy("")
	} else {
		// The walk reads only what the order and the filters need; whole
		// rows are read for the matches alone.
		src := s.ordered("sort_name, updated_at, id, search_words, list_ids, sources, import_ids, access_status", after, n, &args)
		q = `WITH w AS (
			SELECT ` + s.key + `, id, hit, n FROM (
				SELECT ` + s.key + `, id, ` + strings.Join(s.filters, " AND ") + ` AS hit,
					row_number() OVER (ORDER BY ` + s.orderBy("") + `) AS n
				FROM (` + src + `) o) x
			WHERE hit OR n = ` + fmt.Sprint(n) + `
			ORDER BY ` + s.orderBy("") + ` LIMIT ` + fmt.Sprint(s.need) + `)
		SELECT ` + prefixed("c.", clientColumns) + `, w.hit, w.n
		FROM w JOIN rm_clients c ON c.tenant_id = $1 AND c.id = w.id
		ORDER BY ` + s.orderBy("w.")
	}
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []sortedClient
	var last *listPosition
	for rows.Next() {
		var hit bool
		var pos int64
		c, sortName, err := scanClient(rows, &hit, &pos)
		if err != nil {
			return nil, nil, err
		}
		if hit {
			out = append(out, sortedClient{c, sortName})
		}
		if sentinel && pos == int64(n) {
			last = s.position(sortedClient{c, sortName})
		}
	}
	return out, last, rows.Err()
}

// collect finds every client after a position that passes the filters,
// by whatever plan suits finding them all (the trigram or array indexes
// when they are selective), then sorts them and keeps the first n.
func (s *clientSearch) collect(ctx context.Context, db Querier, after *listPosition, n int) ([]sortedClient, error) {
	args := append([]any(nil), s.args...)
	args = append(args, s.statuses)
	statuses := fmt.Sprintf("$%d", len(args))
	// Only the order's columns are collected: thousands of whole rows
	// would spill to disk before the sort.
	from := "rm_clients"
	if len(s.terms) > 0 {
		// The clients having a word that begins the longest term are the
		// candidates (a range of rm_client_words' index).
		term := slices.MaxFunc(s.terms, func(a, b string) int { return len(a) - len(b) })
		lo, hi := prefixRange(term)
		args = append(args, lo, hi)
		from = fmt.Sprintf(`(SELECT c.* FROM (SELECT DISTINCT id FROM rm_client_words
			WHERE tenant_id = $1 AND word >= $%d AND word < $%d) w
			JOIN rm_clients c ON c.tenant_id = $1 AND c.id = w.id) c`, len(args)-1, len(args))
	}
	q := `WITH m AS MATERIALIZED (
		SELECT ` + s.key + `, id FROM ` + from + `
		WHERE tenant_id = $1 AND status = ANY(` + statuses + `) AND ` + s.after(after, &args) + `
		AND ` + strings.Join(s.filters, " AND ") + `),
	top AS (SELECT id FROM m ORDER BY ` + s.orderBy("") + ` LIMIT ` + fmt.Sprint(n) + `)
	SELECT ` + clientColumns + ` FROM rm_clients
	WHERE tenant_id = $1 AND id IN (SELECT id FROM top) ORDER BY ` + s.orderBy("")
	return s.query(ctx, db, q, args)
}

// query runs a search's SQL that selects clientColumns.
func (s *clientSearch) query(ctx context.Context, db Querier, q string, args []any) ([]sortedClient, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sortedClient
	for rows.Next() {
		c, sortName, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sortedClient{c, sortName})
	}
	return out, rows.Err()
}

// sortKey is the column a sort orders by, and its direction.
func sortKey(sort string) (column string, desc, ok bool) {
	switch sort {
	case "name", "-name":
		return "sort_name", sort == "-name", true
	case "updated", "-updated":
		return "updated_at", sort == "-updated", true
	}
	return "", false, false
}

// prefixed qualifies each of a list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ClientsByID returns those of the tenant's clients that have a row, by id.
func (r *Queries) ClientsByID(ctx context.Context, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]ClientView, error) {
	rows, err := r.db.Query(ctx, `SELECT `+clientColumns+` FROM rm_clients WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]ClientView, len(ids))
	for rows.Next() {
		c, _, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("read clients: %w", err)
		}
		out[c.ID] = c
	}
	return out, rows.Err()
}

// MatchVAT looks enterprise numbers up among the tenant's live clients not
// yet linked to source (the write side keeps no VAT index); the oldest
// client wins. Two records of one source with one enterprise number are two
// clients.
func (r *Queries) MatchVAT(ctx context.Context, tenantID uuid.UUID, source string, vats []string) (map[string]uuid.UUID, error) {
	rows, err := r.db.Query(ctx, `SELECT DISTINCT ON (c.vat_number) c.vat_number, c.id
		FROM unnest($2::text[]) AS x(vat)
		JOIN rm_clients c ON c.tenant_id = $1 AND c.vat_number = x.vat
		WHERE c.status = 'active' AND NOT ($3 = ANY(c.sources))
		ORDER BY c.vat_number, c.created_at, c.id`, tenantID, vats, source)
	if err != nil {
		return nil, fmt.Errorf("match enterprise numbers: %w", err)
	}
	out := map[string]uuid.UUID{}
	var vat string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&vat, &id}, func() error {
		out[vat] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("match enterprise numbers: %w", err)
	}
	return out, nil
}

// CountDrift is one dashboard counter that differs from a fresh count.
type CountDrift struct {
	Dimension, Key string
	Fresh, Kept    int64
}

// CountDrifts compares the dashboard counters with a fresh count of the
// clients read model.
func (r *Queries) CountDrifts(ctx context.Context, tenantID uuid.UUID) ([]CountDrift, error) {
	rows, err := r.db.Query(ctx, `
		WITH fresh AS (
			SELECT k.dimension, k.key, count(*) AS n
			FROM rm_clients c, rm_client_count_keys(c.status, c.origin, c.language, c.list_ids) k
			WHERE c.tenant_id = $1 GROUP BY 1, 2),
		kept AS (SELECT dimension, key, n FROM rm_client_counts WHERE tenant_id = $1 AND n <> 0)
		SELECT coalesce(f.dimension, k.dimension), coalesce(f.key, k.key), coalesce(f.n, 0), coalesce(k.n, 0)
		FROM fresh f FULL JOIN kept k ON k.dimension = f.dimension AND k.key = f.key
		WHERE coalesce(f.n, 0) <> coalesce(k.n, 0)`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("check counts: %w", err)
	}
	drifts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CountDrift, error) {
		var d CountDrift
		err := row.Scan(&d.Dimension, &d.Key, &d.Fresh, &d.Kept)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("check counts: %w", err)
	}
	return drifts, nil
}
