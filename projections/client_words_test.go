package projections_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/projections"
)

// A search finds the clients a person would pick out of the whole list by
// eye: each word of the query begins a word of the client's names, email
// or VAT number, or a multi-word name written without its spaces ("vand"
// finds Van den Berghe). Thousands of generated clients, some renamed,
// deleted or removed after they were written (the search's words follow
// every change of a row), are searched page by page in every order and
// compared with a filter in Go over all of them.
func TestSearchFindsWhatABruteForceFilterFinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tenant, other := uuid.New(), uuid.New()
	rnd := rand.New(rand.NewPCG(20, 12))
	firsts := []string{"Marie", "Jean-Luc", "Élise", "Zoë", "Jan", "Anne-Sophie", "Luc", "Vanessa", "Dirk", ""}
	lasts := []string{"Van den Berghe", "Vandenberghe", "De Smet", "Desmet", "Dubois", "O'Neil", "Van Damme",
		"Zeegers", "Peeters", "Lambert-Dupont", "Ze"}
	companies := []string{"Bakkerij Van Damme", "Garage De Smet & Zonen", "Immo Zuid", "Apotheek Élise"}
	const n = 2000
	var (
		ids                                               []uuid.UUID
		statuses, kinds, first, last, company, email, vat []string
		updated                                           []time.Time
	)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ids = append(ids, uuid.New())
		statuses = append(statuses, []string{"active", "active", "active", "deleted"}[rnd.IntN(4)])
		f, l := firsts[rnd.IntN(len(firsts))], lasts[rnd.IntN(len(lasts))]
		kind, comp := "person", ""
		if rnd.IntN(5) == 0 {
			kind, comp = "company", fmt.Sprintf("%s %d", companies[rnd.IntN(len(companies))], i)
		}
		v := ""
		if rnd.IntN(10) == 0 {
			b := 1_000_000 + rnd.IntN(8_000_000)
			v = fmt.Sprintf("0%07d%02d", b, 97-b%97)
		}
		kinds, first, last, company, vat = append(kinds, kind), append(first, f), append(last, l), append(company, comp), append(vat, v)
		email = append(email, fmt.Sprintf("%s.%d@mail%d.example", strings.ToLower(strings.ReplaceAll(f+l, " ", "")), i, i%7))
		updated = append(updated, base.Add(time.Duration(rnd.IntN(1000))*time.Hour))
	}
	if _, err := pool.Exec(ctx, `INSERT INTO rm_clients (tenant_id, id, version, position, status, kind,
			first_name, last_name, company_name, email, vat_number, created_at, updated_at)
		SELECT $1, id, 1, p, status, kind, f, l, c, e, v, u, u
		FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
			WITH ORDINALITY AS x(id, status, kind, f, l, c, e, v, u, p)`,
		tenant, ids, statuses, kinds, first, last, company, email, vat, updated); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO rm_clients (tenant_id, id, version, position, status, kind, first_name,
		last_name, email, created_at, updated_at) VALUES ($1, $2, 1, 1, 'active', 'person', 'Marie', 'Zeegers', 'x@y.example', now(), now())`,
		other, uuid.New()); err != nil {
		t.Fatal(err)
	}
	// After they were written: renamed (a name, hence the words and the
	// order), deleted and restored (the status), removed from the table.
	for _, sql := range []string{
		`UPDATE rm_clients SET last_name = 'Van Zeebroeck', version = 2 WHERE tenant_id = $1 AND position % 11 = 0`,
		`UPDATE rm_clients SET status = CASE status WHEN 'active' THEN 'deleted' ELSE 'active' END WHERE tenant_id = $1 AND position % 13 = 0`,
		`UPDATE rm_clients SET version = version + 1 WHERE tenant_id = $1 AND position % 3 = 0`,
		`DELETE FROM rm_clients WHERE tenant_id = $1 AND position % 17 = 0`,
	} {
		if _, err := pool.Exec(ctx, sql, tenant); err != nil {
			t.Fatal(err)
		}
	}
	// As postgres.Statistics does after bulk changes.
	if _, err := pool.Exec(ctx, `ANALYZE rm_clients, rm_client_words`); err != nil {
		t.Fatal(err)
	}

	type client struct {
		id           uuid.UUID
		status       string
		names, texts []string // names are also matched without their spaces
		sortName     string
		updated      time.Time
	}
	rows, err := pool.Query(ctx, `SELECT id, status, first_name, last_name, company_name, display_name, email, vat_number,
		sort_name, updated_at FROM rm_clients WHERE tenant_id = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	var all []client
	for rows.Next() {
		var c client
		var f, l, co, d, e, v string
		if err := rows.Scan(&c.id, &c.status, &f, &l, &co, &d, &e, &v, &c.sortName, &c.updated); err != nil {
			t.Fatal(err)
		}
		c.names, c.texts = []string{f, l, co, d}, []string{f, l, co, d, e, v}
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	notAlnum := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	matches := func(c client, q string) bool {
		var words []string
		for _, s := range c.texts {
			words = append(words, strings.FieldsFunc(strings.ToLower(s), notAlnum)...)
		}
		for _, s := range c.names {
			words = append(words, strings.Join(strings.FieldsFunc(strings.ToLower(s), notAlnum), ""))
		}
	terms:
		for _, term := range strings.FieldsFunc(strings.ToLower(q), notAlnum) {
			for _, w := range words {
				if w != "" && strings.HasPrefix(w, term) {
					continue terms
				}
			}
			return false
		}
		return true
	}
	byID := func(a, b client) int { return bytes.Compare(a.id[:], b.id[:]) }
	orders := map[string]func(a, b client) int{
		"name":     func(a, b client) int { return cmp.Or(strings.Compare(a.sortName, b.sortName), byID(a, b)) },
		"-name":    func(a, b client) int { return -cmp.Or(strings.Compare(a.sortName, b.sortName), byID(a, b)) },
		"updated":  func(a, b client) int { return cmp.Or(a.updated.Compare(b.updated), byID(a, b)) },
		"-updated": func(a, b client) int { return -cmp.Or(a.updated.Compare(b.updated), byID(a, b)) },
	}
	var someVAT string
	for _, c := range all {
		if c.texts[5] != "" && c.status == "active" {
			someVAT = c.texts[5]
			break
		}
	}

	queries := []string{"vand", "van den", "VAN", "d", "desmet", "ze", "z", "élise", "luc jean", "o'neil",
		"lambertdup", "mail3.example", "zeebroeck van", "bakkerij damme", "1", "nobody", "m z"}
	cases := []struct{ sort, status string }{{"name", ""}, {"-name", ""}, {"updated", ""}, {"name", "all"}}
	// The second time, a query word beginning more than 2 words is walked
	// for and the walk stops after 5 clients: the rest are collected.
	for _, cfg := range []struct {
		walk, words int
		queries     []string
	}{{0, 0, queries}, {5, 2, []string{"VAN", "d", "luc jean", "1", "nobody"}}} {
		q := projections.NewQueries(pool)
		q.SetWalkWindow(cfg.walk)
		q.SetWordLimit(cfg.words)
		for _, tc := range cases {
			for _, query := range cfg.queries {
				var want []uuid.UUID
				for _, c := range slices.SortedFunc(slices.Values(all), orders[tc.sort]) {
					if (tc.status == "all" || c.status == "active") && matches(c, query) {
						want = append(want, c.id)
					}
				}
				got := searchPages(t, q, tenant, projections.ClientFilter{Query: query, Sort: tc.sort, Status: tc.status, Limit: 20}, 3)
				if len(got) < min(60, len(want)) || !slices.Equal(got, want[:min(len(got), len(want))]) {
					t.Errorf("window %d, %d words, %s, status %q, q=%q: found %d %v, want %d %v",
						cfg.walk, cfg.words, tc.sort, tc.status, query, len(got), got, len(want), want)
				}
			}
		}
		// An enterprise number, however written, finds its client.
		got := searchPages(t, q, tenant, projections.ClientFilter{Query: "BE " + someVAT[:4] + "." + someVAT[4:7] + "." + someVAT[7:]}, 1)
		if len(got) == 0 {
			t.Errorf("enterprise number %s found nobody", someVAT)
		}
	}
}

// searchPages follows up to pages pages of a search and returns what they
// held.
func searchPages(t *testing.T, q *projections.Queries, tenant uuid.UUID, f projections.ClientFilter, pages int) []uuid.UUID {
	t.Helper()
	var got []uuid.UUID
	for range pages {
		page, err := q.SearchClients(context.Background(), tenant, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	return got
}
