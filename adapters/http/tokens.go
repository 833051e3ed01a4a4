package http

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// TokenStore keeps the tenant's API tokens (only their hashes).
type TokenStore interface {
	Tokens(ctx context.Context, tenantID uuid.UUID) ([]domain.APIToken, error)
	IssueToken(ctx context.Context, tenantID uuid.UUID, role, name, createdBy string) (domain.APIToken, string, error)
	RevokeToken(ctx context.Context, tenantID, id uuid.UUID) (domain.APIToken, error)
}

// SetTokens plugs the token routes' store in.
func (s *Server) SetTokens(t TokenStore) { s.tokens = t }

type tokenView struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func viewToken(k domain.APIToken) tokenView {
	return tokenView{ID: k.ID, Name: k.Name, Role: k.Role, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func (s *Server) tokenStore(w http.ResponseWriter, r *http.Request) (TokenStore, bool) {
	if s.tokens == nil {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "the token routes are not enabled on this server"))
		return nil, false
	}
	return s.tokens, true
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	store, ok := s.tokenStore(w, r)
	if !ok {
		return
	}
	tokens, err := store.Tokens(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]tokenView, len(tokens))
	for i, k := range tokens {
		items[i] = viewToken(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// createToken answers the token itself, once; only its hash is kept.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	store, ok := s.tokenStore(w, r)
	if !ok {
		return
	}
	var body struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	p := principalFrom(r.Context())
	k, token, err := store.IssueToken(r.Context(), p.TenantID, body.Role, body.Name, p.Actor())
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "API token made", "tenant", p.TenantID, "token", k.ID, "role", k.Role, "by", p.Actor())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, struct {
		tokenView
		Token string `json:"token"`
	}{viewToken(k), token})
}

// revokeToken ends a token: it answers 401 from its next request on.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	store, ok := s.tokenStore(w, r)
	if !ok {
		return
	}
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, newError(http.StatusNotFound, "not_found", "the id is not a uuid"))
		return
	}
	p := principalFrom(r.Context())
	k, err := store.RevokeToken(r.Context(), p.TenantID, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "API token revoked", "tenant", p.TenantID, "token", k.ID, "by", p.Actor())
	writeJSON(w, http.StatusOK, viewToken(k))
}
