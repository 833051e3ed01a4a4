package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Connections is what the integrations page works with: the connection
// commands, the log to fold a connection's stream, its rows.
type Connections struct {
	Commands commands.ConnectionHandlers
	Store    interface {
		Load(ctx context.Context, tenantID uuid.UUID, aggs ...domain.Aggregate) error
	}
	Repo interface {
		Rows(ctx context.Context, tenantID uuid.UUID) ([]commands.ConnectionRow, error)
	}
}

func (c *Console) integrationRoutes(r chi.Router) {
	if c.Conns == nil {
		return
	}
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleAdmin))
		r.Get("/settings/integrations", c.integrationsPage)
		r.Post("/settings/integrations/connect", c.connectSource)
		r.Post("/settings/integrations/{id}/sync", c.syncNow)
		r.Post("/settings/integrations/{id}/disconnect", c.disconnect)
	})
}

// integration is one provider's card: its live connection, if any.
type integration struct {
	Provider string
	Conn     *connectionView
	NeedsURL bool // Admin IS | Consult: a base URL and an API key
	NeedsKey bool // AdminPulse may also take an API key
	Secret   string
	Errors   map[string]string
	BaseURL  string
}

type connectionView struct {
	ID          uuid.UUID
	Status      string
	BaseURL     string
	ConnectedAt time.Time
	LastRun     *domain.SyncRun
	LastError   string
	NextRunAt   *time.Time
	Running     bool
}

// SyncActive is the green light: connected and synced on schedule (an ERP
// pushes, so connected is enough).
func (v *connectionView) SyncActive() bool { return v.Status == domain.ConnectionActive }

var providers = []string{domain.ProviderAdminPulse, domain.ProviderAdminIS, domain.ProviderERP}

func (c *Console) integrations(r *http.Request) ([]*integration, error) {
	u, _ := userFrom(r.Context())
	rows, err := c.Conns.Repo.Rows(r.Context(), u.TenantID)
	if err != nil {
		return nil, err
	}
	byProvider := map[string]*connectionView{}
	for _, row := range rows {
		conn := domain.NewConnection(row.ID)
		if err := c.Conns.Store.Load(r.Context(), u.TenantID, conn); err != nil {
			return nil, err
		}
		if conn.Version() == 0 || conn.Status() == domain.ConnectionRevoked {
			continue
		}
		v := &connectionView{ID: conn.ID(), Status: conn.Status(), BaseURL: conn.BaseURL(), ConnectedAt: conn.ConnectedAt(),
			LastRun: conn.LastRun(), LastError: conn.LastError(), Running: row.Running}
		if v.SyncActive() && conn.Provider() != domain.ProviderERP {
			v.NextRunAt = row.NextRunAt
		}
		if prev := byProvider[conn.Provider()]; prev == nil || prev.Status != domain.ConnectionActive {
			byProvider[conn.Provider()] = v
		}
	}
	out := make([]*integration, len(providers))
	for i, p := range providers {
		out[i] = &integration{Provider: p, Conn: byProvider[p], NeedsURL: p == domain.ProviderAdminIS,
			NeedsKey: p != domain.ProviderERP, Errors: map[string]string{}}
	}
	return out, nil
}

func (c *Console) integrationsPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	c.showIntegrations(w, r, http.StatusOK, nil)
}

func (c *Console) showIntegrations(w http.ResponseWriter, r *http.Request, status int, adjust func([]*integration)) {
	items, err := c.integrations(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if adjust != nil {
		adjust(items)
	}
	p := c.newPage(r, "settings", "integrations.title", items)
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, status, "integrations", p)
}

func (c *Console) connectSource(w http.ResponseWriter, r *http.Request) {
	provider := r.PostFormValue("provider")
	baseURL, apiKey := strings.TrimSpace(r.PostFormValue("base_url")), strings.TrimSpace(r.PostFormValue("api_key"))
	res, err := c.Conns.Commands.Connect.Handle(r.Context(), commands.ConnectSource{Origin: origin(r), Provider: provider,
		BaseURL: baseURL, APIKey: apiKey})
	if err == nil {
		switch {
		case res.AuthorizationURL != "":
			// AdminPulse asks the office for its consent, then sends the
			// browser back to the callback, which comes back here.
			http.Redirect(w, r, res.AuthorizationURL, http.StatusSeeOther)
		case res.Secret != "":
			// Shown once, never stored in clear: the page is not cached.
			c.awaitPosition(r, res.Position)
			c.showIntegrations(w, r, http.StatusOK, func(items []*integration) {
				for _, it := range items {
					if it.Provider == provider {
						it.Secret = res.Secret
					}
				}
			})
		default:
			c.redirectAfter(w, r, "/settings/integrations", res.Position, "source_connected")
		}
		return
	}
	lang := langFrom(r.Context())
	errs := map[string]string{}
	var (
		verr domain.ValidationErrors
		serr *commands.SourceError
	)
	switch {
	case errors.As(err, &verr):
		for _, e := range verr {
			errs[e.Field] = fieldMessage(lang, e)
		}
	case errors.As(err, &serr):
		errs["form"] = translate(lang, "integrations.refused", serr.Message)
	case errors.Is(err, domain.ErrConnectionExists):
		errs["form"] = translate(lang, "integrations.exists")
	case errors.Is(err, commands.ErrProviderNotConfigured):
		errs["form"] = translate(lang, "integrations.not_configured")
	default:
		c.fail(w, r, err)
		return
	}
	c.showIntegrations(w, r, http.StatusUnprocessableEntity, func(items []*integration) {
		for _, it := range items {
			if it.Provider == provider {
				it.Errors, it.BaseURL = errs, baseURL
			}
		}
	})
}

// awaitPosition is awaitOwnWrite for a position at hand.
func (c *Console) awaitPosition(r *http.Request, pos int64) {
	u, _ := userFrom(r.Context())
	_ = c.Reads.WaitForPosition(r.Context(), u.TenantID, pos, projections.Names(), c.ReadYourWritesTimeout)
}

func (c *Console) syncNow(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	err = c.Conns.Commands.SyncNow.Handle(r.Context(), commands.SyncNow{Origin: origin(r), ConnectionID: id})
	c.afterConnectionCommand(w, r, err, 0, "sync_requested")
}

func (c *Console) disconnect(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	res, err := c.Conns.Commands.Revoke.Handle(r.Context(), commands.RevokeConnection{Origin: origin(r), ConnectionID: id})
	c.afterConnectionCommand(w, r, err, res.Position, "source_disconnected")
}

func (c *Console) afterConnectionCommand(w http.ResponseWriter, r *http.Request, err error, pos int64, flash string) {
	switch {
	case err == nil:
		c.redirectAfter(w, r, "/settings/integrations", pos, flash)
	case errors.Is(err, domain.ErrSyncAlreadyRunning):
		http.Redirect(w, r, "/settings/integrations?flash=sync_running", http.StatusSeeOther)
	case errors.Is(err, domain.ErrConnectionRevoked), errors.Is(err, domain.ErrConnectionNotActive), errors.Is(err, domain.ErrNotPulled):
		http.Redirect(w, r, "/settings/integrations?flash=connection_not_active", http.StatusSeeOther)
	case errors.Is(err, domain.ErrConnectionNotFound):
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
	default:
		c.fail(w, r, err)
	}
}
