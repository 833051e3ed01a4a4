package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/clientreg/clientreg/adapters/service"
)

type httpResult struct {
	requests, errors int
	elapsed          time.Duration
	p50, p90, p99    time.Duration
	max              time.Duration
	idlePerHost      int
	firstError       string
}

func (r *httpResult) throughput() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// loadTarget is a server on loopback that registers clients by POST.
type loadTarget struct {
	name, endpoint, token string
	poolMaxConns          int32
	poolSource            string
	close                 func()
	// rest closes the pool's connections after a run: two pools of 60
	// would pass the server's max_connections.
	rest func()
	runs []*httpResult
}

// writeBench is section 1: the registry's POST /v1/clients next to a plain
// CRUD service, taking turns for -http-rounds rounds so both see the
// machine in the same state.
type writeBench struct {
	targets []*loadTarget
}

func benchWrites(ctx context.Context, dbURL, crudURL string, o options, logger *slog.Logger) (*writeBench, error) {
	crud, err := startCRUD(ctx, crudURL, o)
	if err != nil {
		return nil, fmt.Errorf("CRUD baseline: %w", err)
	}
	defer crud.close()
	reg, err := startRegistry(ctx, dbURL, o, logger)
	if err != nil {
		return nil, err
	}
	defer reg.close()
	wb := &writeBench{targets: []*loadTarget{crud, reg}}
	for round := range o.httpRounds {
		for _, t := range wb.targets {
			res := &httpResult{}
			if err := runLoad(ctx, t.endpoint, t.token, fmt.Sprintf("r%d", round), o, res); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			fmt.Fprintf(os.Stderr, "HTTP round %d: %s %.0f req/s, p99 %s\n", round+1, t.name, res.throughput(), fmtLatency(res.p99))
			t.runs = append(t.runs, res)
			t.rest()
		}
	}
	return wb, nil
}

// startRegistry runs the whole service on loopback against dbURL (an empty
// database; service.New migrates it), projectors included.
func startRegistry(ctx context.Context, dbURL string, o options, logger *slog.Logger) (*loadTarget, error) {
	masterKey := make([]byte, 32)
	if _, err := rand.Read(masterKey); err != nil {
		return nil, err
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: withPoolMaxConns(dbURL, o.poolMaxConns),
		MasterKey:   masterKey,
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	t := &loadTarget{name: "POST /v1/clients (register)", poolMaxConns: svc.Pool.Config().MaxConns,
		poolSource: "no pool_max_conns: service.New default"}
	if o.poolMaxConns > 0 {
		t.poolSource = fmt.Sprintf("pool_max_conns=%d in DATABASE_URL", o.poolMaxConns)
	}
	_, token, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		svc.Close()
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.Close()
		return nil, err
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(serveCtx, ln) }()
	t.endpoint, t.token = "http://"+ln.Addr().String()+"/v1/clients", token
	t.rest = svc.Pool.Reset
	t.close = func() {
		stopServe()
		if err := <-served; err != nil {
			logger.Warn("serve", "error", err)
		}
		svc.Close()
	}
	return t, nil
}

// runLoad is the load both the service and the CRUD baseline take: the
// -concurrency clients POST new clients to endpoint for -duration (or
// -requests in all), one request at a time each.
func runLoad(ctx context.Context, endpoint, token, tag string, o options, res *httpResult) error {
	res.idlePerHost = max(o.concurrency, 64)
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        res.idlePerHost,
			MaxIdleConnsPerHost: res.idlePerHost,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	defer client.CloseIdleConnections()

	// Warm up: one request, so the first sample does not pay for setup.
	if status, msg, err := post(ctx, client, endpoint, token, body(tag+"warmup", 0)); err != nil || status != http.StatusCreated {
		return fmt.Errorf("warm-up request: status %d, %v %s", status, err, msg)
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var issued atomic.Int64
	next := func() bool {
		if o.requests > 0 {
			return issued.Add(1) <= int64(o.requests)
		}
		return loadCtx.Err() == nil
	}

	type workerStats struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	stats := make([]workerStats, o.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	if o.requests == 0 {
		time.AfterFunc(o.duration, stopLoad)
	}
	for w := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &stats[w]
			st.lat = make([]time.Duration, 0, 4096)
			for i := 0; next(); i++ {
				b := body(fmt.Sprintf("%sw%d", tag, w), i)
				t0 := time.Now()
				// The run's own deadline must not cut requests in flight short.
				status, msg, err := post(context.WithoutCancel(loadCtx), client, endpoint, token, b)
				st.lat = append(st.lat, time.Since(t0))
				if err != nil || status != http.StatusCreated {
					st.errors++
					if st.firstErr == "" {
						st.firstErr = fmt.Sprintf("status %d: %v %s", status, err, msg)
					}
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	var all []time.Duration
	for _, st := range stats {
		all = append(all, st.lat...)
		res.errors += st.errors
		if res.firstError == "" {
			res.firstError = st.firstErr
		}
	}
	res.requests = len(all)
	if len(all) == 0 {
		return fmt.Errorf("no request completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(all))+0.5) - 1
		return all[min(max(i, 0), len(all)-1)]
	}
	res.p50, res.p90, res.p99, res.max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
	return nil
}

func body(worker string, i int) []byte {
	b, _ := json.Marshal(map[string]string{
		"first_name": "Bench",
		"last_name":  fmt.Sprintf("Client %s-%d", worker, i),
		"email":      fmt.Sprintf("bench.%s.%d@example.com", worker, i),
	})
	return b
}

func post(ctx context.Context, client *http.Client, endpoint, token string, b []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && len(msg) > 200 {
		msg = msg[:200]
	}
	if resp.StatusCode == http.StatusCreated {
		msg = nil
	}
	return resp.StatusCode, string(msg), err
}

// spread is the median of a measure over rounds, with its min and max.
type spread struct{ med, lo, hi float64 }

func spreadOf(runs []*httpResult, f func(*httpResult) float64) spread {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{m, v[0], v[len(v)-1]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func printWrites(w io.Writer, o options, wb *writeBench) {
	fmt.Fprintf(w, "1. writes: POST over loopback HTTP, %d concurrent clients for %s, %d rounds taking turns (median, min–max)\n",
		o.concurrency, describeLoad(o), o.httpRounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   server\treq/s\tp50 ms\tp99 ms\tmax ms\terrors\tpool\n")
	for _, t := range wb.targets {
		tp := spreadOf(t.runs, (*httpResult).throughput)
		p50 := spreadOf(t.runs, func(r *httpResult) float64 { return ms(r.p50) })
		p99 := spreadOf(t.runs, func(r *httpResult) float64 { return ms(r.p99) })
		mx := spreadOf(t.runs, func(r *httpResult) float64 { return ms(r.max) })
		errs := 0
		for _, r := range t.runs {
			errs += r.errors
		}
		fmt.Fprintf(tw, "   %s\t%.0f (%.0f–%.0f)\t%.1f (%.1f–%.1f)\t%.1f (%.1f–%.1f)\t%.0f\t%d\t%d (%s)\n", t.name,
			tp.med, tp.lo, tp.hi, p50.med, p50.lo, p50.hi, p99.med, p99.lo, p99.hi, mx.med, errs, t.poolMaxConns, t.poolSource)
	}
	tw.Flush()
	base, reg := wb.targets[0], wb.targets[1]
	tpRatio := spreadOf(reg.runs, (*httpResult).throughput).med / spreadOf(base.runs, (*httpResult).throughput).med
	p99Ratio := spreadOf(reg.runs, func(r *httpResult) float64 { return ms(r.p99) }).med /
		spreadOf(base.runs, func(r *httpResult) float64 { return ms(r.p99) }).med
	fmt.Fprintf(w, "   register / baseline: throughput %.2f× (target ≥ 0.6×: %s), p99 %.2f× (target ≤ 2×: %s)\n",
		tpRatio, verdict(tpRatio >= 0.6), p99Ratio, verdict(p99Ratio <= 2))
	for _, t := range wb.targets {
		for i, r := range t.runs {
			if r.firstError != "" {
				fmt.Fprintf(w, "   %s, round %d, first error: %s\n", t.name, i+1, r.firstError)
			}
		}
	}
	fmt.Fprintln(w)
}
