package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/clientreg/clientreg/adapters/adminpulse"
	"github.com/clientreg/clientreg/adapters/outbound"
	"github.com/clientreg/clientreg/adapters/service"
)

// sourcesConfig reads the configuration of connections from the
// environment (see usage).
func sourcesConfig() (service.SourcesConfig, error) {
	var cfg service.SourcesConfig
	if raw := strings.TrimSpace(os.Getenv("CLIENTREG_SYNC_INTERVAL")); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < time.Minute {
			return cfg, fmt.Errorf("CLIENTREG_SYNC_INTERVAL: %q is not a duration of at least 1m (like 15m)", raw)
		}
		cfg.SyncInterval = d
	}
	cfg.AllowHTTPHosts = outbound.ParseHosts(os.Getenv("CLIENTREG_SOURCE_HOSTS_ALLOW_HTTP"))
	cfg.AdminPulse = adminpulse.Config{
		APIBaseURL:   envOr("ADMINPULSE_API_URL", ""),
		AuthURL:      envOr("ADMINPULSE_AUTH_URL", ""),
		TokenURL:     envOr("ADMINPULSE_TOKEN_URL", ""),
		ClientID:     os.Getenv("ADMINPULSE_CLIENT_ID"),
		ClientSecret: os.Getenv("ADMINPULSE_CLIENT_SECRET"),
		RedirectURL:  os.Getenv("ADMINPULSE_REDIRECT_URL"),
	}
	if s := strings.TrimSpace(os.Getenv("ADMINPULSE_SCOPES")); s != "" {
		cfg.AdminPulse.Scopes = strings.Fields(s)
	}
	if cfg.AdminPulse.ClientID != "" && !cfg.AdminPulse.Configured() {
		return cfg, fmt.Errorf("ADMINPULSE_CLIENT_ID is set: ADMINPULSE_AUTH_URL, ADMINPULSE_TOKEN_URL and ADMINPULSE_API_URL are needed too")
	}
	return cfg, nil
}

func envOr(name, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return fallback
}
