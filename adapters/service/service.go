// Package service wires the registry together: pool, event store,
// projectors and HTTP API, as `clientreg serve` runs them.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	apihttp "github.com/clientreg/clientreg/adapters/http"
	"github.com/clientreg/clientreg/adapters/metrics"
	natsfwd "github.com/clientreg/clientreg/adapters/nats"
	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/spreadsheet"
	"github.com/clientreg/clientreg/adapters/web"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/migrations"
	"github.com/clientreg/clientreg/projections"
)

// Config is what a running registry needs.
type Config struct {
	DatabaseURL string
	MasterKey   []byte
	Logger      *slog.Logger
	Projector   postgres.ProjectorConfig
	Sources     SourcesConfig // sources.go
	// NATSURL, when set, makes RunWorkers forward every event to NATS
	// JetStream (see adapters/nats).
	NATSURL string
	// MaxAnalyses bounds the file analyses the API runs at once (0:
	// DefaultMaxAnalyses); one more answers 429.
	MaxAnalyses int
}

// DefaultMaxAnalyses: each analysis holds up to about 100 MB of what it
// reads (a workbook's shared strings, the rows being checked), so a few
// at once keep the server in a few hundred MB.
const DefaultMaxAnalyses = 3

// Service is one running registry: API plus projectors.
type Service struct {
	Pool       *pgxpool.Pool
	Store      *eventlog.EventStore
	Reads      *postgres.ReadModels
	Tenants    *postgres.Tenants
	Commands   commands.Handlers
	Imports    *postgres.Imports
	ImportCmds commands.ImportHandlers
	// ImportWorker runs queued import executions; Serve runs it.
	ImportWorker *postgres.ImportWorker
	Audit        *postgres.Audit
	Verifier     *postgres.Verifier
	Rebuilder    *postgres.Rebuilder
	// Statistics analyses tables after bulk changes; RunWorkers runs it.
	Statistics *postgres.Statistics
	API        *apihttp.Server
	// Users are the console's people; Console its pages.
	Users        *postgres.Users
	Console      *web.Console
	consoleConns *web.Connections      // sources.go
	consoleApp   *commands.AppHandlers // sources.go
	// Metrics is what GET /metrics shows.
	Metrics *metrics.Metrics
	// Forwarder sends the log to NATS; nil without Config.NATSURL.
	Forwarder  *natsfwd.Forwarder
	projectors []*postgres.Projector
	logger     *slog.Logger

	// Connections to source systems and their sync scheduler (sources.go).
	Connections    *postgres.Connections
	ConnectionCmds commands.ConnectionHandlers
	SyncScheduler  *postgres.SyncScheduler
}

// New connects, migrates and wires everything; Run starts the work.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	keys, err := eventlog.NewKeyring(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		// pgx defaults to max(4, CPUs): too few for projectors that each hold
		// a connection through their batch, plus the API.
		poolCfg.MaxConns = 25
	}
	if _, set := poolCfg.ConnConfig.RuntimeParams["jit"]; !set {
		// The registry's queries walk indexes: compiling one costs tens of
		// milliseconds whenever the planner's estimate passes jit_above_cost,
		// and saves nothing.
		poolCfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	poolCfg.AfterConnect = postgres.AfterConnect
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := migrations.Apply(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := eventlog.CheckMasterKey(ctx, pool, keys); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Service{
		Pool:    pool,
		Store:   eventlog.NewEventStore(pool, keys, watermill.NewSlogLogger(cfg.Logger)),
		Reads:   postgres.NewReadModels(pool),
		Tenants: postgres.NewTenants(pool),
		logger:  cfg.Logger,
	}
	s.Imports = postgres.NewImports(pool, s.Store, cfg.Logger)
	s.Commands = commands.NewHandlers(s.Store).WithLookups(s.Reads, s.Imports)
	s.ImportCmds = commands.NewImportHandlers(s.Store, s.Imports, spreadsheet.Opener{})
	s.Metrics = metrics.New(metrics.Sources{
		Projections: func(ctx context.Context) ([]projections.Status, error) {
			return s.Reads.ProjectionStatus(ctx, projections.Names())
		},
		Running: s.ProjectorsRunning,
		Pool: func() metrics.PoolStat {
			st := pool.Stat()
			return metrics.PoolStat{Acquired: st.AcquiredConns(), Idle: st.IdleConns(), Total: st.TotalConns(), Max: st.MaxConns(),
				Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), AcquireWait: st.AcquireDuration()}
		},
	})
	s.ImportWorker = postgres.NewImportWorker(s.Imports, observedImports{s.ImportCmds.Run, s.Metrics}, s.ImportCmds.Queued, cfg.Logger)
	for _, p := range projections.All() {
		s.projectors = append(s.projectors, postgres.NewProjector(pool, keys, p, cfg.Projector, cfg.Logger))
	}
	if cfg.NATSURL != "" {
		s.Forwarder = natsfwd.NewForwarder(s.Store, natsfwd.Config{URL: cfg.NATSURL}, cfg.Logger)
	}
	s.Audit = postgres.NewAudit(pool, s.Store)
	s.Verifier = postgres.NewVerifier(pool, s.Store)
	s.Rebuilder = postgres.NewRebuilder(pool, keys, cfg.Logger)
	s.Statistics = postgres.NewStatistics(pool, cfg.Logger)
	if cfg.MaxAnalyses <= 0 {
		cfg.MaxAnalyses = DefaultMaxAnalyses
	}
	imports := apihttp.ImportDeps{Commands: s.ImportCmds, Store: s.Imports, Files: spreadsheet.Opener{}, MaxAnalyses: cfg.MaxAnalyses}
	s.API = apihttp.NewServer(s.Commands, imports, s.Reads, s.Audit, s.Tenants, postgres.NewIdempotency(pool), s, cfg.Logger)
	s.API.SetMetrics(s.Metrics)
	s.API.SetTokens(s.Tenants)
	s.wireConnections(cfg)
	s.Users = postgres.NewUsers(pool)
	s.Console, err = web.New(web.Deps{Commands: s.Commands, Imports: s.ImportCmds, ImportStore: s.Imports, Reads: s.Reads, Conns: s.consoleConns,
		App: s.consoleApp, Audit: s.Audit, Users: s.Users, Tokens: s.Tenants, Logger: cfg.Logger})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks the database.
func (s *Service) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

// ProjectorsRunning tells which projectors are consuming.
func (s *Service) ProjectorsRunning() map[string]bool {
	out := map[string]bool{}
	for _, p := range s.projectors {
		out[p.Name()] = p.Running()
	}
	return out
}

// RunWorkers consumes the log until ctx ends, then waits for every
// projector to finish its batch. The import worker, the sync scheduler and
// the statistics keeper run beside them, and the NATS forwarder when
// configured.
func (s *Service) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.ImportWorker.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.SyncScheduler.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Statistics.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := s.Tenants.WatchTokens(ctx); err != nil {
				s.logger.Warn("API tokens are read on every request until their changes are heard again", "error", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	if s.Forwarder != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runForwarder(ctx)
		}()
	}
	for _, p := range s.projectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := p.Run(ctx); err != nil {
					s.logger.Error("projector stopped; restarting", "projection", p.Name(), "error", err)
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// runForwarder keeps the NATS forwarder running until ctx ends. NATS being
// away is not fatal: each failed run is a warning (no event content in it)
// and the next one starts after a growing pause, at most 30 s. Events wait
// in the log meanwhile.
func (s *Service) runForwarder(ctx context.Context) {
	const maxPause = 30 * time.Second
	pause := time.Second
	for ctx.Err() == nil {
		started := time.Now()
		err := s.Forwarder.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > maxPause {
			pause = time.Second // it ran a while: start over quickly
		}
		s.logger.Warn("forwarding to NATS stopped; retrying", "retry_in", pause.String(), "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// Serve runs the API on ln and the projectors until ctx ends. Shutdown is
// graceful: in-flight requests finish, then the projectors stop after their
// batch.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	// Event streams never end on their own; graceful shutdown ends them.
	srv.RegisterOnShutdown(s.API.StopStreams)
	srv.RegisterOnShutdown(s.Console.StopStreams)
	projCtx, stopProjectors := context.WithCancel(context.WithoutCancel(ctx))
	projDone := make(chan struct{})
	go func() {
		s.RunWorkers(projCtx)
		close(projDone)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		s.logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopProjectors()
	<-projDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Handler serves the API under /v1 (with /healthz, /readyz and /metrics) and the
// console everywhere else.
func (s *Service) Handler() http.Handler {
	api, console := s.API.Handler(), s.Console.Handler()
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/metrics", api)
	mux.Handle("/", console)
	return mux
}

// Close releases the pool.
func (s *Service) Close() { s.Pool.Close() }

// observedImports times every import execution for the metrics.
type observedImports struct {
	postgres.ImportRunner
	metrics *metrics.Metrics
}

func (o observedImports) Run(ctx context.Context, tx commands.ImportTx, tenantID, importID uuid.UUID) error {
	began := time.Now()
	err := o.ImportRunner.Run(ctx, tx, tenantID, importID)
	outcome := "executed"
	if err != nil {
		outcome = "failed"
	}
	o.metrics.Observe("import_execution", outcome, time.Since(began))
	return err
}
