package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// replayResult is section 4: rebuilding every read model from a generated
// log, and reading one long stream back.
type replayResult struct {
	events, clients        int64
	generate, rebuild      time.Duration
	rebuildCPU             cpuSpent
	historyP50, historyP99 time.Duration
	asOfP50, asOfP99       time.Duration
	statsP50, statsP99     time.Duration
	longStream             int
}

// benchReplay appends about n events through the event store (the append
// path every command takes, in transactions of appendChunk events), then
// times the rebuild of every projection from position 0, then history and
// as_of of one client with a long stream, then GET /v1/stats' query.
func benchReplay(ctx context.Context, dbURL string, n int, logger *slog.Logger) (*replayResult, error) {
	svc, err := service.New(ctx, service.Config{DatabaseURL: dbURL, MasterKey: []byte("0123456789abcdef0123456789abcdef"), Logger: logger})
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	tenant, _, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		return nil, err
	}
	origin := domain.Origin{TenantID: tenant, Actor: "bench"}
	res := &replayResult{longStream: 1000}

	start := time.Now()
	list, err := domain.CreateList(uuid.New(), "Newsletter")
	if err != nil {
		return nil, err
	}
	if _, err := svc.Store.Save(ctx, origin, list); err != nil {
		return nil, err
	}
	longID, err := generateLog(ctx, svc, origin, list, n, res.longStream)
	if err != nil {
		return nil, err
	}
	res.generate = time.Since(start)
	if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&res.events); err != nil {
		return nil, err
	}
	if _, err := svc.Pool.Exec(ctx, `ANALYZE events`); err != nil {
		return nil, err
	}

	fmt.Fprintf(os.Stderr, "replay: rebuilding every read model from %d events ...\n", res.events)
	restoreGC := postgres.RaiseGCTargetForReplay() // as clientreg replay does
	clock := newCPUClock(ctx, svc.Pool)
	start, cpu := time.Now(), clock.read()
	for _, p := range projections.All() {
		began := time.Now()
		if err := svc.Rebuilder.Rebuild(ctx, p, nil); err != nil {
			return nil, fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		fmt.Fprintf(os.Stderr, "replay: %s rebuilt in %s\n", p.Name(), time.Since(began).Round(time.Millisecond))
	}
	res.rebuild, res.rebuildCPU = time.Since(start), clock.since(cpu)
	restoreGC()
	if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FROM rm_clients`).Scan(&res.clients); err != nil {
		return nil, err
	}

	at := time.Now()
	res.historyP50, res.historyP99, err = percentiles(200, func() error {
		_, err := svc.Audit.ClientHistory(ctx, tenant, longID)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.asOfP50, res.asOfP99, err = percentiles(200, func() error {
		_, err := svc.Audit.ClientAsOf(ctx, tenant, longID, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.statsP50, res.statsP99, err = percentiles(200, func() error {
		_, err := svc.Reads.Stats(ctx, tenant)
		return err
	})
	return res, err
}

// warmUp is how many calls percentiles makes before it measures.
const warmUp = 20

// appendChunk is how many events go in one append transaction.
const appendChunk = 5000

// generateLog appends about n client events: 80% registrations, the rest
// detail changes and list memberships, plus one client with a stream of
// long events. It returns that client's id.
func generateLog(ctx context.Context, svc *service.Service, origin domain.Origin, list *domain.List, n, long int) (uuid.UUID, error) {
	custom := domain.NewCustomFieldSet(origin.TenantID)
	var changes []commands.RowChange
	pending := 0
	flush := func() error {
		if len(changes) == 0 {
			return nil
		}
		err := pgx.BeginFunc(ctx, svc.Pool, func(tx pgx.Tx) error {
			_, err := svc.Store.AppendInTx(ctx, tx, origin, changes)
			return err
		})
		changes, pending = changes[:0], 0
		return err
	}
	clients := n * 8 / 10
	for i := range clients {
		c, err := domain.RegisterClient(uuid.New(), domain.ClientInput{Details: map[domain.Field]string{
			domain.FieldFirstName: "Client", domain.FieldLastName: fmt.Sprintf("Number %d", i),
			domain.FieldEmail: fmt.Sprintf("client%d@example.be", i), domain.FieldLanguage: []string{"fr", "nl", "en", "de"}[i%4],
		}}, custom)
		if err != nil {
			return uuid.Nil, err
		}
		switch i % 8 {
		case 0:
			err = c.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Namur"}}, custom)
		case 1:
			err = c.AddToList(list)
		}
		if err != nil {
			return uuid.Nil, err
		}
		changes = append(changes, commands.RowChange{Aggregate: c})
		if pending += len(c.PendingEvents()); pending >= appendChunk {
			if err := flush(); err != nil {
				return uuid.Nil, err
			}
		}
		if i%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "replay: generated %d of %d clients\n", i, clients)
		}
	}
	longClient, err := domain.RegisterClient(uuid.New(), domain.ClientInput{Details: map[domain.Field]string{
		domain.FieldFirstName: "Long", domain.FieldLastName: "Stream", domain.FieldEmail: "long@example.be"}}, custom)
	if err != nil {
		return uuid.Nil, err
	}
	for i := 1; i < long; i++ {
		phone := fmt.Sprintf("+32 470 %02d %02d %02d", i/10000%100, i/100%100, i%100)
		if err := longClient.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldPhone: phone}}, custom); err != nil {
			return uuid.Nil, err
		}
	}
	changes = append(changes, commands.RowChange{Aggregate: longClient})
	return longClient.ID(), flush()
}

// percentiles runs fn runs times and returns the p50 and p99 latency.
func percentiles(runs int, fn func() error) (p50, p99 time.Duration, err error) {
	// A few calls first, not measured: the first ones after the rebuild
	// read cold pages and prepare statements, which no later call does.
	for range warmUp {
		if err := fn(); err != nil {
			return 0, 0, err
		}
	}
	ds := make([]time.Duration, runs)
	for i := range ds {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, 0, err
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[runs/2], ds[runs*99/100], nil
}

func printReplay(w io.Writer, r *replayResult) {
	fmt.Fprintf(w, "\n4. replay and audit (log generated through the event store's append path in %s)\n", r.generate.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rate := float64(r.events) / r.rebuild.Seconds()
	fmt.Fprintf(tw, "   measure\tresult\ttarget\tverdict\n")
	fmt.Fprintf(tw, "   rebuild all read models from %d events\t%s, %.0f events/s\t≥ 100,000 events/s\t%s\n",
		r.events, r.rebuild.Round(time.Millisecond), rate, verdict(rate >= 100_000))
	fmt.Fprintf(tw, "   history of a %d-event client\tp50 %s, p99 %s\tp99 < 20 ms\t%s\n",
		r.longStream, fmtLatency(r.historyP50), fmtLatency(r.historyP99), verdict(r.historyP99 < 20*time.Millisecond))
	fmt.Fprintf(tw, "   as_of of a %d-event client\tp50 %s, p99 %s\tp99 < 20 ms\t%s\n",
		r.longStream, fmtLatency(r.asOfP50), fmtLatency(r.asOfP99), verdict(r.asOfP99 < 20*time.Millisecond))
	fmt.Fprintf(tw, "   stats at %d clients\tp50 %s, p99 %s\t< 50 ms\t%s\n",
		r.clients, fmtLatency(r.statsP50), fmtLatency(r.statsP99), verdict(r.statsP99 < 50*time.Millisecond))
	tw.Flush()
	fmt.Fprintf(w, "   the rebuild's CPU: %s, %.2f cores busy; at most %.1f s to meet the target (%d cores busy all along)\n",
		r.rebuildCPU, r.rebuildCPU.total().Seconds()/r.rebuild.Seconds(),
		cpuBudget(time.Duration(float64(r.events)/100_000*float64(time.Second))).Seconds(), runtime.NumCPU())
}
