package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// tokenRoles are the roles a machine's token may hold, least first.
var tokenRoles = []string{domain.RoleApp, domain.RoleViewer, domain.RoleEditor, domain.RoleAdmin}

type tokensData struct {
	Tokens []tokenRow
	Roles  []string
	// Shown is a token just made, shown this once.
	Shown     string
	ShownName string
}

type tokenRow struct {
	domain.APIToken
	// By names who made it, in the page's language.
	By string
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request) {
	c.showTokens(w, r, http.StatusOK, nil)
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, status int, adjust func(*page, *tokensData)) {
	u, _ := userFrom(r.Context())
	tokens, err := c.Tokens.Tokens(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &tokensData{Roles: tokenRoles}
	p := c.newPage(r, "settings", "tokens.title", d)
	people := map[string]string{}
	if users, err := c.Users.Users(r.Context(), u.TenantID); err == nil {
		for _, x := range users {
			people["user:"+x.ID.String()] = x.Email
		}
	}
	for _, k := range tokens {
		row := tokenRow{APIToken: k}
		switch {
		case k.CreatedBy == "":
			row.By = p.T("tokens.by_setup")
		case people[k.CreatedBy] != "":
			row.By = people[k.CreatedBy]
		case strings.HasPrefix(k.CreatedBy, "token:"):
			row.By = p.T("timeline.api")
		default:
			row.By = p.T("timeline.former_user")
		}
		d.Tokens = append(d.Tokens, row)
	}
	if adjust != nil {
		adjust(p, d)
	}
	c.render(w, r, status, "tokens", p)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	made, token, err := c.Tokens.IssueToken(r.Context(), u.TenantID, r.PostFormValue("role"), r.PostFormValue("name"), u.Principal().Actor())
	var verr domain.ValidationErrors
	switch {
	case err == nil:
		c.Logger.InfoContext(r.Context(), "API token made", "tenant", u.TenantID, "token", made.ID, "role", made.Role, "by", u.Principal().Actor())
		c.showTokens(w, r, http.StatusOK, func(p *page, d *tokensData) {
			d.Shown, d.ShownName = token, made.Name
			p.Flash = p.T("flash.token_created")
		})
	case errors.As(err, &verr), errors.Is(err, domain.ErrInvalidRole):
		c.showTokens(w, r, http.StatusUnprocessableEntity, func(p *page, _ *tokensData) {
			if errors.Is(err, domain.ErrInvalidRole) {
				p.Errors["role"] = p.T("tokens.bad_role")
			} else {
				p.Errors["name"] = fieldMessage(p.Lang, verr[0], r.PostFormValue("name"))
			}
			p.Form["name"], p.Form["role"] = r.PostFormValue("name"), r.PostFormValue("role")
		})
	default:
		c.fail(w, r, err)
	}
}

// tokenOf finds the token the path names among the tenant's.
func (c *Console) tokenOf(w http.ResponseWriter, r *http.Request) (domain.APIToken, bool) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return domain.APIToken{}, false
	}
	tokens, err := c.Tokens.Tokens(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return domain.APIToken{}, false
	}
	for _, k := range tokens {
		if k.ID == id {
			return k, true
		}
	}
	c.renderError(w, r, http.StatusNotFound, "error.not_found")
	return domain.APIToken{}, false
}

// revokeTokenPage asks before revoking when the dialog could not (no script).
func (c *Console) revokeTokenPage(w http.ResponseWriter, r *http.Request) {
	k, ok := c.tokenOf(w, r)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "token_revoke", c.newPage(r, "settings", "tokens.revoke_title", k))
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	k, err := c.Tokens.RevokeToken(r.Context(), u.TenantID, id)
	if errors.Is(err, domain.ErrTokenNotFound) {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.Logger.InfoContext(r.Context(), "API token revoked", "tenant", u.TenantID, "token", k.ID, "by", u.Principal().Actor())
	http.Redirect(w, r, "/settings/tokens?flash=token_revoked", http.StatusSeeOther)
}
