package main

import (
	"context"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
)

// The CPU lines must count what the server does for the step: a query
// that keeps a backend busy shows as server time, not as the service's.
func TestCPUClockCountsTheServersWork(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	clock := newCPUClock(ctx, pool)
	if clock.postmaster == 0 {
		t.Fatal("the test server runs on this host, yet its postmaster was not found")
	}
	before := clock.read()
	// Counting twenty million rows keeps a backend busy for about a
	// second on this machine, and for no less than a tenth of one on any.
	if _, err := pool.Exec(ctx, `SELECT count(*) FROM generate_series(1, 20000000)`); err != nil {
		t.Fatal(err)
	}
	spent := clock.since(before)
	if !spent.serverKnown {
		t.Fatal("server CPU not measured")
	}
	// Other tests' databases on the same server only add to it.
	if spent.server < 100*time.Millisecond {
		t.Errorf("the server spent %s of CPU counting twenty million rows, want at least 100ms", spent.server)
	}
	if spent.service >= spent.server {
		t.Errorf("the service spent %s of CPU waiting for a query that took the server %s", spent.service, spent.server)
	}
}
