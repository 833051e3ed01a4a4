package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
)

// Two parallel tests each get their own migrated database; what one writes
// the other does not see.
func TestIsolatedDatabases(t *testing.T) {
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := pgtest.NewPool(t)

			var db string
			if err := pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
				t.Fatal(err)
			}
			t.Logf("database %s", db)

			var hasEvents bool
			if err := pool.QueryRow(ctx, `SELECT to_regclass('public.events') IS NOT NULL`).Scan(&hasEvents); err != nil {
				t.Fatal(err)
			}
			if !hasEvents {
				t.Fatalf("database %s has no events table: not migrated", db)
			}

			var tenants int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&tenants); err != nil {
				t.Fatal(err)
			}
			if tenants != 0 {
				t.Fatalf("fresh database %s already has %d tenants: it sees another test's rows", db, tenants)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), $1)`, "tenant-"+name); err != nil {
				t.Fatal(err)
			}
			var names []string
			rows, _ := pool.Query(ctx, `SELECT name FROM tenants`)
			names, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 1 || names[0] != "tenant-"+name {
				t.Fatalf("database %s tenants = %v, want only tenant-%s", db, names, name)
			}
		})
	}
}

func TestNewDatabaseURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.NewDatabaseURL(t)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied == 0 {
		t.Fatal("no migrations recorded in the test database")
	}
}
