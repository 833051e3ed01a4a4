package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

func (c *Console) listRoutes(r chi.Router) {
	r.Get("/lists", c.listsPage)
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleEditor))
		r.Post("/lists", c.createList)
		r.Post("/lists/{id}/rename", c.renameList)
		r.Get("/lists/{id}/delete", c.deleteListPage)
		r.Post("/lists/{id}/delete", c.deleteList)
	})
}

type listsData struct {
	Lists []projections.ListView
	// Editing is the list whose rename form shows an error.
	Editing uuid.UUID
}

func (c *Console) listsPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	c.showLists(w, r, http.StatusOK, func(*page) {})
}

func (c *Console) showLists(w http.ResponseWriter, r *http.Request, status int, adjust func(*page)) {
	u, _ := userFrom(r.Context())
	lists, err := c.Reads.Lists(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "lists", "lists.title", &listsData{Lists: lists})
	adjust(p)
	c.render(w, r, status, "lists", p)
}

// listError puts a refused list command's reason next to the name field
// (field is the form's name input).
func (c *Console) listError(w http.ResponseWriter, r *http.Request, field string, editing uuid.UUID, err error) {
	var (
		verr domain.ValidationErrors
		dup  *domain.DuplicateError
	)
	msg := ""
	switch {
	case errors.As(err, &verr):
		msg = fieldMessage(langFrom(r.Context()), verr[0], r.PostFormValue("name"))
	case errors.As(err, &dup):
		msg = translate(langFrom(r.Context()), "lists.taken")
	case errors.Is(err, domain.ErrConcurrencyConflict), errors.Is(err, domain.ErrListDeleted):
		msg = translate(langFrom(r.Context()), "lists.changed")
	default:
		c.orFail(w, r, err)
		return
	}
	c.showLists(w, r, http.StatusUnprocessableEntity, func(p *page) {
		p.Errors[field] = msg
		p.Form[field] = r.PostFormValue("name")
		p.Data.(*listsData).Editing = editing
	})
}

func (c *Console) createList(w http.ResponseWriter, r *http.Request) {
	res, err := c.Commands.CreateList.Handle(r.Context(), commands.CreateList{Origin: origin(r), Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		c.listError(w, r, "name", uuid.Nil, err)
		return
	}
	c.redirectAfter(w, r, "/lists", res.Position, "list_created")
}

func (c *Console) renameList(w http.ResponseWriter, r *http.Request) {
	id, version, ok := c.idAndVersion(w, r)
	if !ok {
		return
	}
	res, err := c.Commands.RenameList.Handle(r.Context(), commands.RenameList{Origin: origin(r), ListID: id, ExpectedVersion: version,
		Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		c.listError(w, r, "rename-"+id.String(), id, err)
		return
	}
	c.redirectAfter(w, r, "/lists", res.Position, "list_renamed")
}

func (c *Console) deleteListPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	lists, err := c.Reads.Lists(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, l := range lists {
		if l.ID == id {
			c.render(w, r, http.StatusOK, "list_delete", c.newPage(r, "lists", "lists.delete_title", l))
			return
		}
	}
	c.renderError(w, r, http.StatusNotFound, "error.not_found")
}

func (c *Console) deleteList(w http.ResponseWriter, r *http.Request) {
	id, version, ok := c.idAndVersion(w, r)
	if !ok {
		return
	}
	res, err := c.Commands.DeleteList.Handle(r.Context(), commands.DeleteList{Origin: origin(r), ListID: id, ExpectedVersion: version})
	if err != nil {
		c.listError(w, r, "delete", id, err)
		return
	}
	c.redirectAfter(w, r, "/lists", res.Position, "list_deleted")
}

// idAndVersion reads the {id} of the route and the form's version.
func (c *Console) idAndVersion(w http.ResponseWriter, r *http.Request) (uuid.UUID, *int, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return uuid.Nil, nil, false
	}
	var version *int
	if v, err := strconv.Atoi(r.PostFormValue("version")); err == nil {
		version = &v
	}
	return id, version, true
}
