package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/adminpulse"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// syncResult is one sync run of the benchmark.
type syncResult struct {
	name         string
	elapsed      time.Duration // the run, until its last page committed
	caughtUp     time.Duration // then, until the read models had it all
	clientEvents int
	counts       domain.SyncCounts
}

// fakeRelations serves n generated relations as AdminPulse does; relations
// whose index is a multiple of every get a new phone number in version 2.
type fakeRelations struct {
	n       int
	version atomic.Int32
	every   int
}

func (f *fakeRelations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
	v := f.version.Load()
	results := make([]map[string]any, 0, size)
	for i := page * size; i < f.n && i < (page+1)*size; i++ {
		phone := fmt.Sprintf("+32 2 %03d %02d %02d", i%1000, i%100, i%97)
		if v > 1 && i%f.every == 0 {
			phone = fmt.Sprintf("+32 9 %03d %02d %02d", i%1000, i%100, i%97)
		}
		results = append(results, map[string]any{"id": fmt.Sprintf("R%06d", i), "name": fmt.Sprintf("Relation %06d", i),
			"firstName": "Jan", "email": fmt.Sprintf("rel%06d@example.be", i), "language": "nl", "phone": phone,
			"street": "Kerkstraat", "houseNumber": strconv.Itoa(i%200 + 1), "postalCode": "9000", "city": "Gent", "country": "BE"})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"results": results, "currentPage": page,
		"pageCount": (f.n + size - 1) / size, "pageSize": size, "totalRowCount": f.n})
}

// benchSync syncs n relations from a fake AdminPulse into an empty
// registry, then again with 1% of them changed.
func benchSync(ctx context.Context, dbURL string, n, callsPerMinute int, logger *slog.Logger) ([]syncResult, error) {
	fake := &fakeRelations{n: n, every: 100}
	fake.version.Store(1)
	mux := http.NewServeMux()
	mux.Handle("GET /api/relations", fake)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	svc, err := service.New(ctx, service.Config{DatabaseURL: dbURL, MasterKey: []byte("0123456789abcdef0123456789abcdef"), Logger: logger,
		Sources: service.SourcesConfig{AllowHTTPHosts: []string{"127.0.0.1"}, AdminPulse: adminpulse.Config{APIBaseURL: srv.URL + "/api", AuthURL: srv.URL + "/authorize",
			TokenURL: srv.URL + "/token", ClientID: "bench", CallsPerMinute: callsPerMinute}}})
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	tenant, _, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		svc.RunWorkers(runCtx)
		close(done)
	}()
	defer func() { stop(); <-done }()

	// A connection as the OAuth2 callback leaves it.
	conn, err := domain.RequestConnection(uuid.New(), domain.ProviderAdminPulse, "")
	if err != nil {
		return nil, err
	}
	if err := conn.Authorize(); err != nil {
		return nil, err
	}
	origin := domain.Origin{TenantID: tenant, Actor: "bench"}
	secrets := &commands.ConnectionSecrets{AccessToken: "bench", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
	if _, err := svc.Connections.Create(ctx, origin, conn, secrets, nil, false); err != nil {
		return nil, err
	}

	var out []syncResult
	for _, step := range []string{fmt.Sprintf("first sync: %d relations into an empty registry", n), "second sync: 1% changed"} {
		if len(out) == 1 {
			fake.version.Store(2)
		}
		r, err := runOnce(ctx, svc, tenant, conn.ID(), step)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// runOnce runs one sync of the connection and waits for the read models.
func runOnce(ctx context.Context, svc *service.Service, tenant, connID uuid.UUID, step string) (syncResult, error) {
	if err := svc.Connections.ScheduleNow(ctx, tenant, connID); err != nil {
		return syncResult{}, err
	}
	start := time.Now()
	if err := svc.ConnectionCmds.Run.RunDue(ctx, tenant, connID); err != nil {
		return syncResult{}, err
	}
	r := syncResult{name: step, elapsed: time.Since(start)}
	c := domain.NewConnection(connID)
	if err := svc.Store.Load(ctx, tenant, c); err != nil {
		return syncResult{}, err
	}
	run := c.LastRun()
	if run == nil || run.Status != domain.SyncSucceeded {
		return syncResult{}, fmt.Errorf("%s: run did not complete: %+v", step, run)
	}
	r.counts = run.Counts
	var head int64
	if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE stream_type = 'client' AND metadata::jsonb->>'sync_run_id' = $1),
		max("offset") FROM events`, run.ID.String()).Scan(&r.clientEvents, &head); err != nil {
		return syncResult{}, err
	}
	if err := svc.Reads.WaitForPosition(ctx, tenant, head, []string{"clients"}, 10*time.Minute); err != nil {
		return syncResult{}, err
	}
	r.caughtUp = time.Since(start) - r.elapsed
	return r, nil
}

func printSync(w io.Writer, rs []syncResult, callsPerMinute int) {
	fmt.Fprintf(w, "\n5. sync from a fake AdminPulse (pages of %d, calls limited to %d a minute)\n", adminpulse.PageSize, callsPerMinute)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   run\ttime\tread models +\tclient events\tcreated\tupdated\tunchanged\tremoved\terrors\n")
	for _, r := range rs {
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.name, r.elapsed.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond),
			r.clientEvents, r.counts.Created, r.counts.Updated, r.counts.Unchanged, r.counts.Removed, r.counts.Errors)
	}
	tw.Flush()
}
