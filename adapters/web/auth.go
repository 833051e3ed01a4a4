package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/clientreg/clientreg/adapters/i18n"
	"github.com/clientreg/clientreg/domain"
)

const (
	sessionCookie = "clientreg_session"
	// preCookie carries the CSRF secret of the sign-in form, before there
	// is a session to derive it from.
	preCookie  = "clientreg_pre"
	langCookie = "clientreg_lang"
)

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	csrfKey
	langKey
)

// consoleLangs are the console's languages; the first is the default.
var consoleLangs = []string{"en", "fr", "nl"}

func userFrom(ctx context.Context) (domain.User, bool) {
	u, ok := ctx.Value(userKey).(domain.User)
	return u, ok
}

func csrfFrom(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey).(string)
	return s
}

func langFrom(ctx context.Context) string {
	if l, ok := ctx.Value(langKey).(string); ok {
		return l
	}
	return consoleLangs[0]
}

// withLang picks the language: the user's choice (a cookie set by the
// switcher), else the browser's Accept-Language, else English.
func (c *Console) withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chosen := ""
		if ck, err := r.Cookie(langCookie); err == nil {
			chosen = ck.Value
		}
		lang := i18n.Lang(chosen, r.Header.Get("Accept-Language"))
		if !slices.Contains(consoleLangs, lang) {
			lang = consoleLangs[0]
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey, lang)))
	})
}

// chooseLang remembers the user's language for a year and goes back.
func (c *Console) chooseLang(w http.ResponseWriter, r *http.Request) {
	lang := chi.URLParam(r, "lang")
	if !slices.Contains(consoleLangs, lang) {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// csrfToken derives a form token from a secret the browser holds in an
// HttpOnly cookie: another site can make the browser send the cookie but
// cannot read it, so it cannot know the token.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("clientreg console form"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux; a failure panics in the runtime
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkCSRF refuses a POST whose form token does not match the session's
// (or, before sign-in, the sign-in form's cookie). It also puts the token
// in the context for the page's forms.
func (c *Console) checkCSRF(next http.Handler) http.Handler { return c.csrf(next, true) }

// csrfForMultipart only puts the token in the context: the handler checks
// it from the multipart stream (see analyzeImport).
func (c *Console) csrfForMultipart(next http.Handler) http.Handler { return c.csrf(next, false) }

func (c *Console) csrf(next http.Handler, check bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := r.Context().Value(sessionKey).(string)
		if secret == "" {
			if ck, err := r.Cookie(preCookie); err == nil {
				secret = ck.Value
			}
		}
		if r.Method == http.MethodPost && check {
			sent := r.Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = r.PostFormValue("csrf")
			}
			if secret == "" || !hmac.Equal([]byte(sent), []byte(csrfToken(secret))) {
				c.renderError(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, csrfToken(secret))))
	})
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// requireSession lets signed-in users through; others go to the sign-in
// page, which brings them back afterwards.
func (c *Console) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			u, err := c.Users.Session(r.Context(), ck.Value)
			if err == nil {
				ctx := context.WithValue(context.WithValue(r.Context(), userKey, u), sessionKey, ck.Value)
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			if !errors.Is(err, domain.ErrSessionNotFound) {
				c.fail(w, r, err)
				return
			}
		}
		back := "/"
		if r.Method == http.MethodGet {
			back = r.URL.RequestURI()
		}
		http.Redirect(w, r, "/signin?back="+urlQueryEscape(back), http.StatusSeeOther)
	})
}

// requirePasswordSet sends a user who signed in with a one-time password to
// choose their own first.
func (c *Console) requirePasswordSet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := userFrom(r.Context()); u.MustSetPassword {
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireRole refuses users below role.
func requireRole(c *Console, role string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, _ := userFrom(r.Context()); !u.Principal().Can(role) {
				c.renderError(w, r, http.StatusForbidden, "error.forbidden")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if _, err := c.Users.Session(r.Context(), ck.Value); err == nil {
			http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
			return
		}
	}
	secret := randomSecret()
	c.setCookie(w, r, preCookie, secret, 3600)
	p := c.newPage(r, "", "signin.title", nil)
	p.Bare = true
	p.CSRF = csrfToken(secret)
	p.Form["back"] = localPath(r.URL.Query().Get("back"))
	c.render(w, r, http.StatusOK, "signin", p)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	back := localPath(r.PostFormValue("back"))
	u, err := c.Users.SignIn(r.Context(), email, password)
	if err != nil {
		p := c.newPage(r, "", "signin.title", nil)
		p.Bare = true
		p.Form["email"], p.Form["back"] = email, back
		var throttled *domain.ThrottledError
		switch {
		case errors.As(err, &throttled):
			p.Errors["form"] = p.T("signin.throttled", int(math.Ceil(throttled.RetryAfter.Seconds())))
		case errors.Is(err, domain.ErrInvalidCredentials):
			p.Errors["form"] = p.T("signin.invalid")
		default:
			c.fail(w, r, err)
			return
		}
		c.render(w, r, http.StatusUnauthorized, "signin", p)
		return
	}
	token, err := c.Users.StartSession(r.Context(), u.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, preCookie, "", -1)
	c.setCookie(w, r, sessionCookie, token, 0)
	if u.MustSetPassword {
		back = "/account/password"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	token, _ := r.Context().Value(sessionKey).(string)
	if err := c.Users.EndSession(r.Context(), token); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/signin?flash=signed_out", http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, "", "password.title", nil)
	p.Bare = p.User.MustSetPassword
	c.render(w, r, http.StatusOK, "password", p)
}

func (c *Console) setPassword(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	pw, again := r.PostFormValue("password"), r.PostFormValue("password_again")
	p := c.newPage(r, "", "password.title", nil)
	p.Bare = u.MustSetPassword
	var verr domain.ValidationErrors
	switch err := domain.CheckPassword(pw); {
	case errors.As(err, &verr):
		p.Errors["password"] = fieldMessage(p.Lang, verr[0])
	case err != nil:
		c.fail(w, r, err)
		return
	case pw != again:
		p.Errors["password_again"] = p.T("password.mismatch")
	}
	if len(p.Errors) > 0 {
		c.render(w, r, http.StatusUnprocessableEntity, "password", p)
		return
	}
	token, _ := r.Context().Value(sessionKey).(string)
	if err := c.Users.SetPassword(r.Context(), u.ID, pw, token); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/clients?flash=password_set", http.StatusSeeOther)
}
