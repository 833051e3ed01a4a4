package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

func (c *Console) settingsRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleAdmin))
		r.Get("/settings", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/settings/integrations", http.StatusSeeOther)
		})
		r.Get("/settings/custom-fields", c.customFieldsPage)
		r.Post("/settings/custom-fields", c.defineCustomField)
		r.Get("/settings/users", c.usersPage)
		r.Post("/settings/users", c.inviteUser)
		r.Post("/settings/users/{id}/reset", c.resetPassword)
		r.Get("/settings/tokens", c.tokensPage)
		r.Post("/settings/tokens", c.createToken)
		r.Get("/settings/tokens/{id}/revoke", c.revokeTokenPage)
		r.Post("/settings/tokens/{id}/revoke", c.revokeToken)
	})
}

type fieldsData struct {
	Fields []projections.CustomFieldView
	Types  []string
}

func (c *Console) customFieldsPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	c.showCustomFields(w, r, http.StatusOK, nil)
}

func (c *Console) showCustomFields(w http.ResponseWriter, r *http.Request, status int, adjust func(*page)) {
	u, _ := userFrom(r.Context())
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "settings", "fields.title", &fieldsData{Fields: fields,
		Types: []string{domain.CustomText, domain.CustomNumber, domain.CustomDate, domain.CustomChoice}})
	if adjust != nil {
		adjust(p)
	}
	c.render(w, r, status, "custom_fields", p)
}

func (c *Console) defineCustomField(w http.ResponseWriter, r *http.Request) {
	var options []string
	for _, o := range strings.Split(r.PostFormValue("options"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			options = append(options, o)
		}
	}
	res, err := c.Commands.DefineCustomField.Handle(r.Context(), commands.DefineCustomField{Origin: origin(r),
		Name: strings.TrimSpace(r.PostFormValue("name")), Type: r.PostFormValue("type"), Options: options})
	if err == nil {
		c.redirectAfter(w, r, "/settings/custom-fields", res.Position, "field_defined")
		return
	}
	var verr domain.ValidationErrors
	if !errors.As(err, &verr) {
		c.orFail(w, r, err)
		return
	}
	c.showCustomFields(w, r, http.StatusUnprocessableEntity, func(p *page) {
		for _, e := range verr {
			if _, taken := p.Errors[e.Field]; !taken {
				p.Errors[e.Field] = fieldMessage(p.Lang, e)
			}
		}
		for _, k := range []string{"name", "type", "options"} {
			p.Form[k] = r.PostFormValue(k)
		}
	})
}

type usersData struct {
	Users []domain.User
	// Shown is a one-time password to hand over, shown once.
	Shown      string
	ShownEmail string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request) {
	c.showUsers(w, r, http.StatusOK, nil)
}

func (c *Console) showUsers(w http.ResponseWriter, r *http.Request, status int, adjust func(*page, *usersData)) {
	u, _ := userFrom(r.Context())
	users, err := c.Users.Users(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &usersData{Users: users}
	p := c.newPage(r, "settings", "users.title", d)
	if adjust != nil {
		adjust(p, d)
	}
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, status, "users", p)
}

func (c *Console) inviteUser(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	created, password, err := c.Users.Create(r.Context(), u.TenantID, r.PostFormValue("email"), r.PostFormValue("role"))
	var verr domain.ValidationErrors
	switch {
	case err == nil:
		c.showUsers(w, r, http.StatusOK, func(p *page, d *usersData) {
			d.Shown, d.ShownEmail = password, created.Email
			p.Flash = p.T("flash.user_invited")
		})
	case errors.As(err, &verr), errors.Is(err, domain.ErrUserExists), errors.Is(err, domain.ErrInvalidRole):
		c.showUsers(w, r, http.StatusUnprocessableEntity, func(p *page, _ *usersData) {
			switch {
			case errors.Is(err, domain.ErrUserExists):
				p.Errors["email"] = p.T("users.exists")
			case errors.Is(err, domain.ErrInvalidRole):
				p.Errors["role"] = p.T("users.bad_role")
			default:
				p.Errors["email"] = fieldMessage(p.Lang, verr[0], r.PostFormValue("email"))
			}
			p.Form["email"], p.Form["role"] = r.PostFormValue("email"), r.PostFormValue("role")
		})
	default:
		c.fail(w, r, err)
	}
}

func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	password, err := c.Users.ResetPassword(r.Context(), u.TenantID, id)
	if errors.Is(err, domain.ErrUserNotFound) {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.showUsers(w, r, http.StatusOK, func(p *page, d *usersData) {
		d.Shown = password
		for _, x := range d.Users {
			if x.ID == id {
				d.ShownEmail = x.Email
			}
		}
		p.Flash = p.T("flash.password_reset")
	})
}
