package commands

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ErrProviderNotConfigured: the deployment has no OAuth2 client for the
// provider (its client id and secret are configuration).
var ErrProviderNotConfigured = errors.New("this provider is not configured on this server")

// authorizationTTL bounds how long an office may take to give its consent.
const authorizationTTL = 30 * time.Minute

// ConnectSource connects a source system (admin only).
type ConnectSource struct {
	Origin   domain.Origin
	Provider string
	BaseURL  string
	APIKey   string
}

// ConnectResult is the connection plus what the office needs next: where
// to give its consent (AdminPulse) or the push secret, shown once (ERP).
type ConnectResult struct {
	Result
	Provider         string `json:"provider"`
	Status           string `json:"status"`
	AuthorizationURL string `json:"authorization_url,omitempty"`
	Secret           string `json:"secret,omitempty"`
}

type ConnectSourceHandler struct {
	store   EventStore
	repo    ConnectionRepository
	oauth   OAuthFlow
	checker SourceChecker
	// scheduled wakes the scheduler: the first run starts right away.
	scheduled *Wakeup
}

func (h ConnectSourceHandler) Handle(ctx context.Context, cmd ConnectSource) (ConnectResult, error) {
	provider, err := domain.ParseProvider(cmd.Provider)
	if err != nil {
		return ConnectResult{}, err
	}
	conn, err := domain.RequestConnection(uuid.New(), provider, cmd.BaseURL)
	if err != nil {
		return ConnectResult{}, err
	}
	out := ConnectResult{Provider: provider}
	var secrets *ConnectionSecrets
	var pending *PendingAuthorization
	switch provider {
	case domain.ProviderAdminPulse:
		// An office may connect with an API key made in AdminPulse
		// instead of the OAuth2 consent: checked at once, connected at once.
		if key := strings.TrimSpace(cmd.APIKey); key != "" {
			if err := h.checker.CheckAdminPulse(ctx, key); err != nil {
				return ConnectResult{}, err
			}
			if err := conn.Authorize(); err != nil {
				return ConnectResult{}, err
			}
			secrets = &ConnectionSecrets{APIKey: key}
			break
		}
		if h.oauth == nil {
			return ConnectResult{}, ErrProviderNotConfigured
		}
		var state, verifier string
		out.AuthorizationURL, state, verifier = h.oauth.Begin()
		pending = &PendingAuthorization{State: state, Verifier: verifier, ExpiresAt: time.Now().Add(authorizationTTL)}
	case domain.ProviderAdminIS:
		key := strings.TrimSpace(cmd.APIKey)
		if key == "" {
			return ConnectResult{}, domain.ValidationErrors{{Field: "api_key", Code: "required", Message: "the API key is required"}}
		}
		if err := h.checker.CheckAdminIS(ctx, conn.BaseURL(), key); err != nil {
			return ConnectResult{}, err
		}
		secrets = &ConnectionSecrets{APIKey: key}
	case domain.ProviderERP:
		secret, err := randomSecret()
		if err != nil {
			return ConnectResult{}, err
		}
		secrets = &ConnectionSecrets{ERPSecret: secret}
		out.Secret = secret
	}
	pos, err := h.repo.Create(ctx, cmd.Origin, conn, secrets, pending, secrets != nil && provider != domain.ProviderERP)
	if err != nil {
		return ConnectResult{}, err
	}
	h.scheduled.Notify()
	out.Result = Result{ID: conn.StreamID(), Version: conn.Version() + len(conn.PendingEvents()), Position: pos}
	out.Status = conn.Status()
	return out, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthorizeSource completes an OAuth2 consent: the provider redirected the
// office back with a code and the state it was given.
type AuthorizeSource struct {
	State string
	Code  string
	// CorrelationID ties the events to the callback request.
	CorrelationID string
}

type AuthorizeSourceHandler struct {
	store     EventStore
	repo      ConnectionRepository
	oauth     OAuthFlow
	scheduled *Wakeup
}

func (h AuthorizeSourceHandler) Handle(ctx context.Context, cmd AuthorizeSource) (Result, error) {
	if h.oauth == nil {
		return Result{}, ErrProviderNotConfigured
	}
	if cmd.State == "" || cmd.Code == "" {
		return Result{}, domain.ErrInvalidOAuthState
	}
	tenantID, id, verifier, err := h.repo.TakeAuthorization(ctx, cmd.State)
	if err != nil {
		return Result{}, err
	}
	conn, err := loadConnection(ctx, h.store, tenantID, id)
	if err != nil {
		return Result{}, err
	}
	tokens, err := h.oauth.Exchange(ctx, cmd.Code, verifier)
	if err != nil {
		return Result{}, err
	}
	if err := conn.Authorize(); err != nil {
		return Result{}, err
	}
	origin := domain.Origin{TenantID: tenantID, Actor: "oauth:" + conn.Provider(), CorrelationID: cmd.CorrelationID, CausationID: cmd.CorrelationID}
	pos, err := h.repo.Activate(ctx, origin, conn, tokens)
	if err != nil {
		return Result{}, err
	}
	h.scheduled.Notify()
	return Result{ID: id, Version: conn.Version() + len(conn.PendingEvents()), Position: pos}, nil
}

// RevokeConnection ends a connection and forgets its secrets.
type RevokeConnection struct {
	Origin       domain.Origin
	ConnectionID uuid.UUID
}

type RevokeConnectionHandler struct {
	store EventStore
	repo  ConnectionRepository
}

func (h RevokeConnectionHandler) Handle(ctx context.Context, cmd RevokeConnection) (Result, error) {
	return retryOnConflict(ctx, func() (Result, error) {
		conn, err := loadConnection(ctx, h.store, cmd.Origin.TenantID, cmd.ConnectionID)
		if err != nil {
			return Result{}, err
		}
		if err := conn.Revoke(); err != nil {
			return Result{}, err
		}
		pos, err := h.repo.Revoke(ctx, cmd.Origin, conn)
		if err != nil {
			return Result{}, err
		}
		return Result{ID: conn.StreamID(), Version: conn.Version() + len(conn.PendingEvents()), Position: pos}, nil
	})
}

// SyncNow asks for a run of a pulled connection as soon as possible.
type SyncNow struct {
	Origin       domain.Origin
	ConnectionID uuid.UUID
}

type SyncNowHandler struct {
	store     EventStore
	repo      ConnectionRepository
	scheduled *Wakeup
}

func (h SyncNowHandler) Handle(ctx context.Context, cmd SyncNow) error {
	conn, err := loadConnection(ctx, h.store, cmd.Origin.TenantID, cmd.ConnectionID)
	if err != nil {
		return err
	}
	if err := conn.CheckActive(); err != nil {
		return err
	}
	if conn.Provider() == domain.ProviderERP {
		return domain.ErrNotPulled
	}
	if err := h.repo.ScheduleNow(ctx, cmd.Origin.TenantID, cmd.ConnectionID); err != nil {
		return err
	}
	h.scheduled.Notify()
	return nil
}
