package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// ConnectionDeps is what the connection routes need.
type ConnectionDeps struct {
	Commands commands.ConnectionHandlers
	Store    commands.EventStore
	Repo     commands.ConnectionRepository
}

// SetConnections plugs the connection routes' dependencies in.
func (s *Server) SetConnections(d ConnectionDeps) { s.conns = &d }

type connectBody struct {
	Provider string `json:"provider"`
	BaseURL  string `json:"base_url"`
	APIKey   string `json:"api_key"`
}

func (s *Server) connectionDeps(w http.ResponseWriter, r *http.Request) (*ConnectionDeps, bool) {
	if s.conns == nil {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "connections are not enabled on this server"))
		return nil, false
	}
	return s.conns, true
}

func (s *Server) connectSource(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	var body connectBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := d.Commands.Connect.Handle(r.Context(), commands.ConnectSource{Origin: origin(r),
		Provider: body.Provider, BaseURL: body.BaseURL, APIKey: body.APIKey})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/connections/"+res.ID.String())
	// The ERP secret is shown once: keep it out of caches.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, res)
}

// oauthCallback is where the provider sends the office's browser back. The
// state (single use, 30 minutes) is what authenticates it.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	// A person's browser goes back to the console's integrations page.
	browser := strings.Contains(r.Header.Get("Accept"), "text/html")
	if e := q.Get("error"); e != "" {
		if browser {
			http.Redirect(w, r, "/settings/integrations?flash=consent_refused", http.StatusSeeOther)
			return
		}
		writeError(w, r, newError(http.StatusBadRequest, "authorization_denied", "the provider did not give its consent; start the connection again"))
		return
	}
	reqID, _ := r.Context().Value(requestIDKey).(string)
	res, err := d.Commands.Authorize.Handle(r.Context(), commands.AuthorizeSource{State: q.Get("state"), Code: q.Get("code"), CorrelationID: reqID})
	if err != nil {
		if browser && toAPIError(err).Status < 500 {
			http.Redirect(w, r, "/settings/integrations?flash=consent_refused", http.StatusSeeOther)
			return
		}
		writeError(w, r, err)
		return
	}
	if browser {
		http.Redirect(w, r, "/settings/integrations?flash=source_connected&at="+strconv.FormatInt(res.Position, 10), http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": res.ID, "status": domain.ConnectionActive, "version": res.Version, "position": res.Position})
}

func (s *Server) revokeConnection(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Revoke.Handle(ctx, commands.RevokeConnection{Origin: origin(r), ConnectionID: id})
	})
}

func (s *Server) syncConnection(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := d.Commands.SyncNow.Handle(r.Context(), commands.SyncNow{Origin: origin(r), ConnectionID: id}); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "scheduled"})
}

// connectionView is a connection as GET /v1/connections shows it.
type connectionView struct {
	ID          uuid.UUID       `json:"id"`
	Provider    string          `json:"provider"`
	Status      string          `json:"status"`
	SyncActive  bool            `json:"sync_active"`
	BaseURL     string          `json:"base_url,omitempty"`
	ConnectedAt *time.Time      `json:"connected_at,omitempty"`
	LastRun     *domain.SyncRun `json:"last_run"`
	NextRunAt   *time.Time      `json:"next_run_at"`
	LastError   string          `json:"last_error,omitempty"`
	Version     int             `json:"version"`
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	tenantID := principalFrom(r.Context()).TenantID
	items, err := connectionViews(r.Context(), d, tenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// connectionViews folds each connection's stream (a tenant has a handful).
func connectionViews(ctx context.Context, d *ConnectionDeps, tenantID uuid.UUID) ([]connectionView, error) {
	rows, err := d.Repo.Rows(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	items := make([]connectionView, 0, len(rows))
	for _, row := range rows {
		c := domain.NewConnection(row.ID)
		if err := d.Store.Load(ctx, tenantID, c); err != nil {
			return nil, err
		}
		if c.Version() == 0 {
			continue
		}
		v := connectionView{ID: c.ID(), Provider: c.Provider(), Status: c.Status(), BaseURL: c.BaseURL(),
			SyncActive: c.Status() == domain.ConnectionActive, LastRun: c.LastRun(), LastError: c.LastError(), Version: c.Version()}
		if at := c.ConnectedAt(); !at.IsZero() {
			v.ConnectedAt = &at
		}
		if v.SyncActive && c.Provider() != domain.ProviderERP {
			v.NextRunAt = row.NextRunAt
		}
		items = append(items, v)
	}
	return items, nil
}
