// Package http is the JSON API (chi): commands go to the command handlers,
// queries to the read models.
package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// ReadModels is what the API reads from.
type ReadModels interface {
	Client(ctx context.Context, tenantID, id uuid.UUID) (projections.ClientView, error)
	SearchClients(ctx context.Context, tenantID uuid.UUID, f projections.ClientFilter) (projections.ClientPage, error)
	Lists(ctx context.Context, tenantID uuid.UUID) ([]projections.ListView, error)
	ListExists(ctx context.Context, tenantID, id uuid.UUID) (bool, error)
	CustomFields(ctx context.Context, tenantID uuid.UUID) ([]projections.CustomFieldView, error)
	WaitForPosition(ctx context.Context, tenantID uuid.UUID, position int64, groups []string, timeout time.Duration) error
	ProjectionStatus(ctx context.Context, groups []string) ([]projections.Status, error)
	Import(ctx context.Context, tenantID, id uuid.UUID) (projections.ImportView, error)
	Imports(ctx context.Context, tenantID uuid.UUID, f projections.ImportFilter) (projections.ImportPage, error)
	ImportIssues(ctx context.Context, tenantID, importID uuid.UUID, cursor string, limit int, errorsOnly bool) (projections.IssuePage, error)
	Stats(ctx context.Context, tenantID uuid.UUID) (projections.Stats, error)
}

// AuditLog answers from the log itself: timelines, past states, the feed.
type AuditLog interface {
	ClientHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error)
	ClientAsOf(ctx context.Context, tenantID, id uuid.UUID, at time.Time) (projections.ClientView, error)
	ImportHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error)
	ConnectionHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error)
	Events(ctx context.Context, tenantID uuid.UUID, f projections.EventFilter) (projections.EventPage, error)
}

// Authenticator resolves an API token to the principal it acts as
// (domain.ErrInvalidToken when it is unknown or revoked).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (domain.Principal, error)
}

// IdempotencyStore remembers the first answer to each (tenant, key).
type IdempotencyStore interface {
	// Claim takes the key for a request; it returns the stored answer when
	// the same request already completed.
	Claim(ctx context.Context, tenantID uuid.UUID, key string, requestHash []byte) (*commands.IdempotencyClaim, *commands.StoredResponse, error)
	Complete(ctx context.Context, c *commands.IdempotencyClaim, resp commands.StoredResponse) error
	Release(ctx context.Context, c *commands.IdempotencyClaim) error
}

// Health reports readiness beyond the database: are the projectors running.
type Health interface {
	Ping(ctx context.Context) error
	ProjectorsRunning() map[string]bool
}

// Metrics is what the API reports to GET /metrics.
type Metrics interface {
	Handler() http.Handler
	ObserveRequest(route, method string, status int, took time.Duration)
	// Observe records a run of a use case (kind import_analysis here).
	Observe(kind, outcome string, took time.Duration)
}

// SetMetrics serves GET /metrics and reports every request to m.
func (s *Server) SetMetrics(m Metrics) { s.metrics = m }

// Server holds the API's dependencies.
type Server struct {
	commands    commands.Handlers
	reads       ReadModels
	audit       AuditLog
	tenants     Authenticator
	idempotency IdempotencyStore
	health      Health
	imports     ImportDeps
	conns       *ConnectionDeps // connections.go; nil: no connection routes
	app         *AppDeps        // app_registrations.go
	tokens      TokenStore      // tokens.go; nil: no token routes
	logger      *slog.Logger
	// streamsDone ends the event streams when the server shuts down.
	streamsDone chan struct{}
	stopOnce    sync.Once
	// ReadYourWritesTimeout bounds the wait for min_position.
	ReadYourWritesTimeout time.Duration
	// analyses holds a token per running analysis (ImportDeps.MaxAnalyses).
	analyses chan struct{}
	metrics  Metrics // nil: no /metrics
}

// NewServer builds the API.
func NewServer(cmds commands.Handlers, imports ImportDeps, reads ReadModels, audit AuditLog, tenants Authenticator, idem IdempotencyStore, health Health, logger *slog.Logger) *Server {
	s := &Server{commands: cmds, imports: imports, reads: reads, audit: audit, tenants: tenants, streamsDone: make(chan struct{}), idempotency: idem, health: health, logger: logger,
		ReadYourWritesTimeout: 5 * time.Second}
	if imports.MaxAnalyses > 0 {
		s.analyses = make(chan struct{}, imports.MaxAnalyses)
	}
	return s
}

// StopStreams ends every open event stream (and refuses new ones), so a
// graceful shutdown need not wait for them.
func (s *Server) StopStreams() { s.stopOnce.Do(func() { close(s.streamsDone) }) }

// Handler returns the routed API.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestLog, checkParams)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if s.metrics != nil {
		r.Method(http.MethodGet, "/metrics", s.metrics.Handler())
	}
	r.Get("/v1/openapi.json", serveOpenAPI)
	// Authenticated by the OAuth2 state and by the ERP's signature, not by an API token.
	r.Get("/v1/connections/oauth/callback", s.oauthCallback)
	r.With(limitBody).Put("/v1/sources/{connectionID}/clients/{externalID}", s.pushClient)
	r.With(limitBody).Delete("/v1/sources/{connectionID}/clients/{externalID}", s.pushClient)

	r.Route("/v1", func(r chi.Router) {
		r.Use(s.authenticate, confineAppRole)
		// Uploads stream to disk under the tenant's own file limit, so they
		// skip the JSON body limit (and the idempotency cache, which would
		// hold the whole body: an analysis changes nothing in the registry).
		r.With(requireRole(domain.RoleEditor)).Post("/imports", s.analyzeImport)
		r.Group(func(r chi.Router) {
			r.Use(limitBody)
			s.jsonRoutes(r)
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "no such endpoint"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here"))
	})
	return r
}

func (s *Server) jsonRoutes(r chi.Router) {
	// Reads: any role.
	r.Get("/clients", s.searchClients)
	r.Get("/clients/{id}", s.getClient)
	r.Get("/clients/{id}/history", s.clientHistory)
	r.Get("/stats", s.stats)
	r.Get("/events", s.events)
	r.Get("/events/stream", s.eventStream)
	r.Get("/imports/{id}/history", s.importHistory)
	r.Get("/lists", s.getLists)
	r.Get("/custom-fields", s.getCustomFields)
	r.Get("/imports", s.listImports)
	r.Get("/imports/{id}", s.getImport)
	r.Get("/imports/{id}/errors", s.importErrors)
	r.Get("/imports/{id}/{file}", s.rejectedRows)
	r.Get("/templates/{name}", s.template)
	r.Get("/app-registrations", s.pendingAppRegistrations)
	r.Get("/app-access", s.appAccess) // app_access.go: editor or app role

	r.Group(func(r chi.Router) {
		r.Use(requireRole(domain.RoleEditor), s.idempotent)
		r.Post("/clients", s.registerClient)
		r.Patch("/clients/{id}", s.changeClient)
		r.Delete("/clients/{id}", s.deleteClient)
		r.Post("/clients/{id}/restore", s.restoreClient)
		r.Post("/clients/{id}/contact-persons", s.addContactPerson)
		r.Patch("/clients/{id}/contact-persons/{contactID}", s.changeContactPerson)
		r.Delete("/clients/{id}/contact-persons/{contactID}", s.removeContactPerson)
		r.Put("/clients/{id}/lists/{listID}", s.addClientToList)
		r.Delete("/clients/{id}/lists/{listID}", s.removeClientFromList)
		r.Post("/lists", s.createList)
		r.Patch("/lists/{id}", s.renameList)
		r.Delete("/lists/{id}", s.deleteList)
		r.Post("/clients/{id}/invite", s.inviteClient)
		r.Post("/clients/{id}/validate-access", s.validateAccess)
		r.Post("/clients/{id}/revoke-access", s.revokeAccess)
		r.Post("/clients/{id}/reject-registration", s.rejectClientRegistration)
		r.Post("/app-registrations/{id}/link", s.linkAppRegistration)
		r.Post("/app-registrations/{id}/reject", s.rejectAppRegistration)
		r.Post("/app-registrations", s.registerAppUser)
		r.Post("/imports/{id}/mapping", s.remapImport)
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(domain.RoleAdmin), s.idempotent)
		r.Post("/custom-fields", s.defineCustomField)
		r.Post("/imports/{id}/execute", s.executeImport)
		r.Post("/imports/{id}/undo", s.undoImport)
		r.Post("/clients/{id}/erase", s.eraseClient)
		r.Post("/clients/{id}/detach", s.detachClient)
		r.Post("/lists/{id}/restore", s.restoreList)
		r.Delete("/connections/{id}", s.revokeConnection)
		r.Post("/connections/{id}/sync", s.syncConnection)
	})
	r.With(requireRole(domain.RoleAdmin)).Get("/connections", s.listConnections)
	r.With(requireRole(domain.RoleAdmin)).Get("/connections/{id}/history", s.connectionHistory)
	// Not through the idempotency cache: the answer holds a secret (the ERP
	// secret, the OAuth2 state), which must not be stored in clear.
	r.With(requireRole(domain.RoleAdmin)).Post("/connections", s.connectSource)
	// Tokens likewise: making one answers the token itself.
	r.With(requireRole(domain.RoleAdmin)).Get("/tokens", s.listTokens)
	r.With(requireRole(domain.RoleAdmin)).Post("/tokens", s.createToken)
	r.With(requireRole(domain.RoleAdmin)).Delete("/tokens/{id}", s.revokeToken)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the database answers and every projector runs; it shows each
// projection's position against the head of the log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.health.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	status, err := s.reads.ProjectionStatus(ctx, projections.Names())
	if err != nil {
		writeError(w, r, err)
		return
	}
	running := s.health.ProjectorsRunning()
	ready := true
	type projection struct {
		projections.Status
		Running bool `json:"running"`
	}
	out := make([]projection, len(status))
	for i, st := range status {
		out[i] = projection{Status: st, Running: running[st.Name]}
		ready = ready && running[st.Name]
	}
	code, word := http.StatusOK, "ready"
	if !ready {
		code, word = http.StatusServiceUnavailable, "projections not running"
	}
	writeJSON(w, code, map[string]any{"status": word, "projections": out})
}

// readBody reads the (size-limited) body and puts it back for the handler.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newError(http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("the request body is over %d bytes", tooBig.Limit))
		}
		return nil, newError(http.StatusBadRequest, "unreadable_body", "could not read the request body")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// decodeJSON reads one JSON object, refusing unknown fields; an empty body
// is allowed only when optional is set.
func decodeJSON(r *http.Request, into any, optional bool) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return newError(http.StatusBadRequest, "invalid_json", "the request needs a JSON body")
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		msg := err.Error()
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			msg = fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type)
		}
		return newError(http.StatusBadRequest, "invalid_json", strings.TrimPrefix(msg, "json: "))
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "invalid_json", "the body holds more than one JSON value")
	}
	return nil
}

func pathUUID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, name))
	if err != nil {
		return uuid.Nil, newError(http.StatusNotFound, "not_found", name+" is not a valid id")
	}
	return id, nil
}

// ifMatch reads the If-Match version. Required ones answer 428 when absent.
func ifMatch(r *http.Request, required bool) (*int, error) {
	raw := strings.Trim(strings.TrimPrefix(strings.TrimSpace(r.Header.Get("If-Match")), "W/"), `"`)
	if raw == "" {
		if required {
			return nil, newError(http.StatusPreconditionRequired, "precondition_required",
				"send If-Match with the version you edited, as returned by GET (ETag) or the last command")
		}
		return nil, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		return nil, newError(http.StatusBadRequest, "invalid_if_match", "If-Match must be a version number")
	}
	return &v, nil
}

// awaitPosition implements read-your-writes: with min_position=N the query
// waits (bounded) until the projections have applied event N.
func (s *Server) awaitPosition(r *http.Request) error {
	raw := r.URL.Query().Get("min_position")
	if raw == "" {
		return nil
	}
	pos, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || pos < 0 {
		return newError(http.StatusBadRequest, "invalid_min_position", "min_position must be a non-negative integer")
	}
	if pos == 0 {
		return nil
	}
	return s.reads.WaitForPosition(r.Context(), principalFrom(r.Context()).TenantID, pos, projections.Names(), s.ReadYourWritesTimeout)
}

// commandOnID runs a command on the resource {id} names and answers its
// result.
func (s *Server) commandOnID(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, id uuid.UUID) (commands.Result, error)) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := run(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

func writeResult(w http.ResponseWriter, status int, res commands.Result) {
	writeVersioned(w, status, res.Version, res)
}

// writeVersioned answers a command whose answer says more than its Result,
// with the stream's new version as the ETag.
func writeVersioned(w http.ResponseWriter, status, version int, body any) {
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(version)))
	writeJSON(w, status, body)
}
