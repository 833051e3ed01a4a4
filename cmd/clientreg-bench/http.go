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
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clientreg/clientreg/adapters/service"
)

type httpResult struct {
	requests, errors int
	elapsed          time.Duration
	p50, p90, p99    time.Duration
	max              time.Duration
	poolMaxConns     int32
	poolSource       string
	idlePerHost      int
	firstError       string
}

// benchHTTP runs the whole service on loopback against dbURL (an empty
// database; service.New migrates it) and registers clients through the API.
func benchHTTP(ctx context.Context, dbURL string, o options, logger *slog.Logger) (*httpResult, error) {
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
	defer svc.Close()
	res := &httpResult{poolMaxConns: svc.Pool.Config().MaxConns, poolSource: "no pool_max_conns: service.New default"}
	if o.poolMaxConns > 0 {
		res.poolSource = fmt.Sprintf("pool_max_conns=%d in DATABASE_URL", o.poolMaxConns)
	}

	_, token, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(serveCtx, ln) }()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			logger.Warn("serve", "error", err)
		}
	}()

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
	endpoint := "http://" + ln.Addr().String() + "/v1/clients"

	// Warm up: one request, so the first sample does not pay for setup.
	if status, _, err := post(ctx, client, endpoint, token, body("warmup", 0)); err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("warm-up request: status %d, %v", status, err)
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
				b := body(fmt.Sprintf("w%d", w), i)
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
		return nil, ctx.Err()
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
		return nil, fmt.Errorf("no request completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(all))+0.5) - 1
		return all[min(max(i, 0), len(all)-1)]
	}
	res.p50, res.p90, res.p99, res.max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
	return res, nil
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
	req.Header.Set("Authorization", "Bearer "+token)
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
