// Package web is the console for the people who run an office: server-
// rendered pages on the same commands and queries as the API, signed in with
// an email and a password. It imports no storage package: everything it
// reads and writes goes through the interfaces below.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// ReadModels is what the console reads (the API reads the same).
type ReadModels interface {
	Client(ctx context.Context, tenantID, id uuid.UUID) (projections.ClientView, error)
	SearchClients(ctx context.Context, tenantID uuid.UUID, f projections.ClientFilter) (projections.ClientPage, error)
	Lists(ctx context.Context, tenantID uuid.UUID) ([]projections.ListView, error)
	CustomFields(ctx context.Context, tenantID uuid.UUID) ([]projections.CustomFieldView, error)
	WaitForPosition(ctx context.Context, tenantID uuid.UUID, position int64, groups []string, timeout time.Duration) error
	Import(ctx context.Context, tenantID, id uuid.UUID) (projections.ImportView, error)
	Imports(ctx context.Context, tenantID uuid.UUID, f projections.ImportFilter) (projections.ImportPage, error)
	ImportIssues(ctx context.Context, tenantID, importID uuid.UUID, cursor string, limit int, errorsOnly bool) (projections.IssuePage, error)
	Stats(ctx context.Context, tenantID uuid.UUID) (projections.Stats, error)
}

// ImportStore is what the import pages read beside the read models.
type ImportStore interface {
	Limits(ctx context.Context, tenantID uuid.UUID) (commands.ImportLimits, error)
	Progress(ctx context.Context, tenantID, importID uuid.UUID) (*projections.ImportProgress, error)
}

// AuditLog answers timelines from the log.
type AuditLog interface {
	ClientHistory(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error)
	Events(ctx context.Context, tenantID uuid.UUID, f projections.EventFilter) (projections.EventPage, error)
}

// Users keeps the console's people and their sessions.
type Users interface {
	SignIn(ctx context.Context, email, password string) (domain.User, error)
	StartSession(ctx context.Context, userID uuid.UUID) (string, error)
	Session(ctx context.Context, token string) (domain.User, error)
	EndSession(ctx context.Context, token string) error
	SetPassword(ctx context.Context, userID uuid.UUID, password, keepSession string) error
	Users(ctx context.Context, tenantID uuid.UUID) ([]domain.User, error)
	Create(ctx context.Context, tenantID uuid.UUID, email, role string) (domain.User, string, error)
	ResetPassword(ctx context.Context, tenantID, id uuid.UUID) (string, error)
}

// Tokens keeps the tenant's API tokens (only their hashes).
type Tokens interface {
	Tokens(ctx context.Context, tenantID uuid.UUID) ([]domain.APIToken, error)
	IssueToken(ctx context.Context, tenantID uuid.UUID, role, name, createdBy string) (domain.APIToken, string, error)
	RevokeToken(ctx context.Context, tenantID, id uuid.UUID) (domain.APIToken, error)
}

// Deps is what the console is built on.
type Deps struct {
	Commands    commands.Handlers
	Imports     commands.ImportHandlers
	ImportStore ImportStore
	Reads       ReadModels
	Audit       AuditLog
	Users       Users
	Tokens      Tokens
	// App holds the app access commands; nil when the server has none.
	App *commands.AppHandlers
	// Conns is nil when the server has no connections.
	Conns  *Connections
	Logger *slog.Logger
}

// Console serves the pages.
type Console struct {
	Deps
	pages map[string]*template.Template
	// streamsDone ends the live audit streams when the server shuts down.
	streamsDone chan struct{}
	stopOnce    sync.Once
	// ReadYourWritesTimeout bounds the wait for a command's own write to
	// reach the read models before the next page shows it.
	ReadYourWritesTimeout time.Duration
}

// New parses the templates.
func New(d Deps) (*Console, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	c := &Console{Deps: d, pages: map[string]*template.Template{}, ReadYourWritesTimeout: 5 * time.Second, streamsDone: make(chan struct{})}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		c.pages[base] = t
	}
	return c, nil
}

// StopStreams ends the live streams, which would otherwise hold a
// graceful shutdown until its deadline.
func (c *Console) StopStreams() { c.stopOnce.Do(func() { close(c.streamsDone) }) }

// Handler routes the console. The API keeps /v1, /healthz and /readyz.
func (c *Console) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(securityHeaders, c.withLang)
	assets, _ := fs.Sub(assetFiles, "assets")
	r.Handle("/assets/*", http.StripPrefix("/assets/", cacheAssets(http.FileServer(http.FS(assets)))))
	r.Get("/lang/{lang}", c.chooseLang)
	r.Get("/signin", c.signInPage)
	r.With(c.checkCSRF).Post("/signin", c.signIn)

	r.With(c.requireSession, c.csrfForMultipart, c.requirePasswordSet, requireRole(c, domain.RoleEditor)).
		Post("/imports/new", c.analyzeImport)
	r.Group(func(r chi.Router) {
		r.Use(c.requireSession, c.checkCSRF)
		r.Post("/signout", c.signOut)
		r.Get("/account/password", c.passwordPage)
		r.Post("/account/password", c.setPassword)
		r.Group(func(r chi.Router) {
			r.Use(c.requirePasswordSet)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/clients", http.StatusSeeOther) })
			c.clientRoutes(r)
			c.importRoutes(r)
			c.listRoutes(r)
			c.integrationRoutes(r)
			c.settingsRoutes(r)
			r.Get("/dashboard", c.dashboardPage)
			r.Get("/audit", c.auditPage)
			r.Get("/audit/stream", c.auditStream)
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
	})
	return r
}

// page is what every template gets: the request's language, user, CSRF
// token, and the page's own Data.
type page struct {
	Lang   string
	Langs  []string
	User   *domain.User
	CSRF   string
	Nav    string
	Bare   bool // no navigation: sign-in and first password
	Title  string
	Flash  string
	Path   string
	Data   any
	Errors map[string]string // field -> message, for forms
	Form   map[string]string // what the user typed, for forms
}

// T translates a message key into the page's language; args fill %s, %d.
func (p *page) T(key string, args ...any) string { return translate(p.Lang, key, args...) }

// Can tells whether the signed-in user holds at least role.
func (p *page) Can(role string) bool { return p.User != nil && p.User.Principal().Can(role) }

// Err is a field's error message, "" when none.
func (p *page) Err(field string) string { return p.Errors[field] }

// HasErr tells whether a field whose key starts with prefix has an error
// (one form of several on a page).
func (p *page) HasErr(prefix string) bool {
	for k := range p.Errors {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// Val is what the user typed in a field.
func (p *page) Val(field string) string { return p.Form[field] }

func (c *Console) newPage(r *http.Request, nav, titleKey string, data any) *page {
	p := &page{Lang: langFrom(r.Context()), Langs: consoleLangs, Nav: nav, Data: data, Path: r.URL.RequestURI(),
		Errors: map[string]string{}, Form: map[string]string{}}
	p.Title = p.T(titleKey)
	if u, ok := userFrom(r.Context()); ok {
		p.User = &u
	}
	p.CSRF = csrfFrom(r.Context())
	if f := r.URL.Query().Get("flash"); f != "" && hasMessage("flash."+f) {
		p.Flash = p.T("flash." + f)
	}
	return p
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, pageRoot(r), p); err != nil {
		c.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageRoot is the template a request gets: the whole page, or only the part
// that changes when the page's script asks for it (search as you type).
func pageRoot(r *http.Request) string {
	if r.URL.Query().Get("partial") == "1" {
		return "partial"
	}
	return "layout"
}

// fail answers 500 and logs the cause (never the query, which may hold
// personal data).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.Logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	c.renderError(w, r, http.StatusInternalServerError, "error.internal")
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := c.newPage(r, "", "error.title", nil)
	p.Data = p.T(key)
	t := c.pages["error"]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if t != nil {
		_ = t.ExecuteTemplate(w, "layout", p)
	}
}

// orFail renders the error for a failed query: not found is a 404 page,
// anything else a 500.
func (c *Console) orFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, domain.ErrClientNotFound), errors.Is(err, domain.ErrListNotFound):
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
	case errors.Is(err, projections.ErrInvalidCursor):
		c.renderError(w, r, http.StatusBadRequest, "error.bad_cursor")
	default:
		c.fail(w, r, err)
	}
}

// origin is who a command runs for, as its events record it.
func origin(r *http.Request) domain.Origin {
	u, _ := userFrom(r.Context())
	id := uuid.NewString()
	return domain.Origin{TenantID: u.TenantID, Actor: u.Principal().Actor(), CorrelationID: id, CausationID: id}
}

// awaitOwnWrite waits (bounded) for the read models to hold the event at
// ?at=, so the page after a command shows what the command did.
func (c *Console) awaitOwnWrite(r *http.Request) {
	var pos int64
	if _, err := fmt.Sscan(r.URL.Query().Get("at"), &pos); err != nil || pos <= 0 {
		return
	}
	u, _ := userFrom(r.Context())
	if err := c.Reads.WaitForPosition(r.Context(), u.TenantID, pos, projections.Names(), c.ReadYourWritesTimeout); err != nil {
		c.Logger.WarnContext(r.Context(), "read models behind the console's own write", "position", pos, "error", err)
	}
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// localPath keeps a redirect target on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
