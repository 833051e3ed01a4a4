package service

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/clientreg/clientreg/adapters/adminpulse"
	apihttp "github.com/clientreg/clientreg/adapters/http"
	"github.com/clientreg/clientreg/adapters/outbound"
	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/adapters/syneton"
	"github.com/clientreg/clientreg/adapters/web"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// SourcesConfig configures connections to source systems.
type SourcesConfig struct {
	// AdminPulse is the deployment's OAuth2 client; without a client id
	// AdminPulse cannot be connected.
	AdminPulse adminpulse.Config
	// SyncInterval is the time between scheduled runs (default 15 minutes).
	SyncInterval time.Duration
	// AllowHTTPHosts may be reached over http and on internal addresses
	// (CLIENTREG_SOURCE_HOSTS_ALLOW_HTTP); every other host only over
	// https on a public address.
	AllowHTTPHosts []string
	// HTTPClient talks to the sources (default: the guarded client of
	// adapters/outbound with a 60 s timeout).
	HTTPClient *http.Client
	// Sleep replaces the back-off waits (tests).
	Sleep func(ctx context.Context, d time.Duration) error
}

// sources builds the clients of source systems for connects and runs.
type sources struct {
	cfg SourcesConfig
}

var (
	_ commands.PullerFactory = sources{}
	_ commands.SourceChecker = sources{}
)

func (s sources) policy() outbound.Policy { return outbound.Policy{AllowHTTP: s.cfg.AllowHTTPHosts} }

func (s sources) synetonClient(baseURL, apiKey string) *syneton.Client {
	c := syneton.New(baseURL, apiKey, s.cfg.HTTPClient)
	if s.cfg.Sleep != nil {
		c.Sleep = s.cfg.Sleep
	}
	return c
}

// CheckAdminIS logs in and reads the settings, at connect time.
func (s sources) CheckAdminIS(ctx context.Context, baseURL, apiKey string) error {
	if err := s.policy().CheckURL(baseURL); err != nil {
		return err
	}
	return s.synetonClient(baseURL, apiKey).Check(ctx)
}

// CheckAdminPulse reads one relation with an API key, at connect time.
func (s sources) CheckAdminPulse(ctx context.Context, apiKey string) error {
	return adminpulse.Check(ctx, s.cfg.AdminPulse, s.cfg.HTTPClient, apiKey)
}

// Puller builds the reader of a connection's source.
func (s sources) Puller(ctx context.Context, conn *domain.Connection, secrets commands.ConnectionSecrets,
	save func(context.Context, commands.ConnectionSecrets) error) (commands.Puller, error) {
	switch conn.Provider() {
	case domain.ProviderAdminIS:
		if err := s.policy().CheckURL(conn.BaseURL()); err != nil {
			return nil, &commands.SourceError{Message: "the address of " + conn.Provider() + " must start with https://; connect it again with its https address"}
		}
		return syneton.NewPuller(ctx, s.synetonClient(conn.BaseURL(), secrets.APIKey))
	case domain.ProviderAdminPulse:
		if secrets.APIKey == "" && !s.cfg.AdminPulse.Configured() {
			return nil, &commands.SourceError{Message: "AdminPulse is no longer configured on this server"}
		}
		p := adminpulse.NewPuller(s.cfg.AdminPulse, s.cfg.HTTPClient, secrets, save)
		if s.cfg.Sleep != nil {
			p.Sleep = s.cfg.Sleep
		}
		return p, nil
	}
	return nil, fmt.Errorf("provider %s: %w", conn.Provider(), domain.ErrNotPulled)
}

// wireConnections builds connections, syncs and their routes.
func (s *Service) wireConnections(cfg Config) {
	s.Connections = postgres.NewConnections(s.Pool, s.Store, s.Imports, cfg.Logger)
	if cfg.Sources.HTTPClient == nil {
		cfg.Sources.HTTPClient = outbound.Policy{AllowHTTP: cfg.Sources.AllowHTTPHosts}.Client(60 * time.Second)
	}
	src := sources{cfg: cfg.Sources}
	deps := commands.ConnectionDeps{Store: s.Store, Repo: s.Connections, Syncs: s.Connections, Pushes: s.Connections,
		Checker: src, Sources: src, Interval: cfg.Sources.SyncInterval}
	if cfg.Sources.AdminPulse.Configured() {
		deps.OAuth = adminpulse.NewFlow(cfg.Sources.AdminPulse, cfg.Sources.HTTPClient)
	}
	s.ConnectionCmds = commands.NewConnectionHandlers(deps)
	s.ConnectionCmds.Run.Observe = s.Metrics.Observe
	s.SyncScheduler = postgres.NewSyncScheduler(s.Connections, s.ConnectionCmds.Run, s.ConnectionCmds.Scheduled, cfg.Logger)
	s.API.SetConnections(apihttp.ConnectionDeps{Commands: s.ConnectionCmds, Store: s.Store, Repo: s.Connections})
	s.consoleConns = &web.Connections{Commands: s.ConnectionCmds, Store: s.Store, Repo: s.Connections}
	apps := postgres.NewAppRegistrations(s.Pool, s.Store)
	appCmds := commands.NewAppHandlers(s.Store, apps)
	s.consoleApp = &appCmds
	s.API.SetApp(apihttp.AppDeps{Commands: appCmds, Repo: apps,
		Access: commands.NewAppAccessQuery(s.Store, apps)})
}
