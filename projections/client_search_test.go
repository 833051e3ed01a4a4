package projections_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/projections"
)

// A filtered search walks the list's first clients and, when they hold
// fewer than a page of matches, collects the matches among the rest. Pages
// must come out the same whichever way they were found: here the walk
// stops after 5 clients, so matches at the end of the order (a surname
// sorting last), everywhere, nowhere and among several statuses all cross
// from one plan to the other within a page or between pages, in every
// order.
func TestSearchPagesAreTheSameWhicheverPlanFindsThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tenant, other := uuid.New(), uuid.New()
	list := uuid.New()

	insert := func(tenant uuid.UUID, i int, status, first, last string, lists []uuid.UUID) {
		t.Helper()
		if lists == nil {
			lists = []uuid.UUID{}
		}
		if _, err := pool.Exec(ctx, `INSERT INTO rm_clients (tenant_id, id, version, position, status, kind,
			first_name, last_name, email, list_ids, created_at, updated_at)
			VALUES ($1, $2, 1, $3, $4, 'person', $5, $6, $7, $8, now(), now())`,
			tenant, uuid.New(), i, status, first, last, fmt.Sprintf("c%d@big.example", i), lists); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		last := []string{"Aerts", "Claes", "Dubois", "Maes", "Peeters"}[i%5]
		status := "active"
		if i%7 == 3 {
			status = "deleted"
		}
		var lists []uuid.UUID
		if i%13 == 0 {
			lists = []uuid.UUID{list}
		}
		insert(tenant, i, status, "Marie", last, lists)
	}
	for i := range 6 { // the surname that sorts last, and only there
		insert(tenant, 100+i, "active", "Jan", "Zeegers", nil)
	}
	insert(other, 200, "active", "Jan", "Zeegers", nil) // another tenant's: never found

	// want is the page sequence's oracle: every match, in list order.
	order := "sort_name, id"
	want := func(status, where string, args ...any) []uuid.UUID {
		t.Helper()
		statusCond := "status = 'active'"
		switch status {
		case "all":
			statusCond = "true"
		case "deleted":
			statusCond = "status = 'deleted'"
		}
		rows, err := pool.Query(ctx, `SELECT id FROM rm_clients WHERE tenant_id = $1 AND `+statusCond+` AND `+where+
			` ORDER BY `+order, append([]any{tenant}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}

	// A query word beginning more words than the limit is walked for, as
	// are those of the last-update order: a limit of 1 still merges for
	// "maes", but walks for "m" (marie, maes) and "c" (every email's c0,
	// c1, ...).
	for _, words := range []int{0, 1} {
		queries := projections.NewQueries(pool)
		queries.SetWalkWindow(5)
		queries.SetWordLimit(words)
		for sort, sql := range map[string]string{"name": "sort_name, id", "-name": "sort_name DESC, id DESC",
			"updated": "updated_at, id", "-updated": "updated_at DESC, id DESC"} {
			order = sql
			searchEveryWay(t, queries, tenant, sort, list, want)
		}
	}
}

func searchEveryWay(t *testing.T, queries *projections.Queries, tenant uuid.UUID, sort string, list uuid.UUID,
	want func(status, where string, args ...any) []uuid.UUID) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		filter projections.ClientFilter
		want   []uuid.UUID
	}{
		{"no filter", projections.ClientFilter{}, want("", "true")},
		{"a surname sorting last", projections.ClientFilter{Query: "zeeg"}, want("", "last_name = 'Zeegers'")},
		{"everyone", projections.ClientFilter{Query: "big.example"}, want("", "true")},
		{"nobody", projections.ClientFilter{Query: "nobody"}, nil},
		{"a list", projections.ClientFilter{ListID: &list}, want("", "list_ids @> ARRAY[$2::uuid]", list)},
		{"every status, a surname", projections.ClientFilter{Status: "all", Query: "maes"}, want("all", "last_name = 'Maes'")},
		{"every status", projections.ClientFilter{Status: "all"}, want("all", "true")},
		{"deleted, a letter", projections.ClientFilter{Status: "deleted", Query: "e"}, want("deleted", "true")}, // "example"
		{"a letter", projections.ClientFilter{Query: "z"}, want("", "last_name = 'Zeegers'")},
		{"a letter of most names", projections.ClientFilter{Query: "m"}, want("", "first_name = 'Marie'")},
		{"a letter of every email", projections.ClientFilter{Query: "C"}, want("", "true")},
	} {
		for _, limit := range []int{1, 4, 50} {
			f := tc.filter
			f.Limit, f.Sort = limit, sort
			var got []uuid.UUID
			for pages := 0; ; pages++ {
				if pages > 60 {
					t.Fatalf("%s, %s, pages of %d: the cursor does not end", sort, tc.name, limit)
				}
				page, err := queries.SearchClients(ctx, tenant, f)
				if err != nil {
					t.Fatalf("%s, %s: %v", sort, tc.name, err)
				}
				if len(page.Items) > limit || (page.NextCursor != "" && len(page.Items) < limit) {
					t.Fatalf("%s, %s, pages of %d: a page of %d with next cursor %q", sort, tc.name, limit, len(page.Items), page.NextCursor)
				}
				for _, c := range page.Items {
					got = append(got, c.ID)
				}
				if page.NextCursor == "" {
					break
				}
				f.Cursor = page.NextCursor
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s, %s, pages of %d: found %d clients %v, want %d %v", sort, tc.name, limit, len(got), got, len(tc.want), tc.want)
			}
		}
	}
}
