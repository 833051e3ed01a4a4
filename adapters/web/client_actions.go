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
)

// The client page's own forms: contact persons, lists and app access, on
// the commands the API runs. Each goes back to the page with the outcome
// on top, or shows the page again with the reason next to the form.

func (c *Console) clientActionRoutes(r chi.Router) {
	r.Post("/clients/{id}/contacts", c.addContact)
	r.Post("/clients/{id}/contacts/{contact}/edit", c.changeContact)
	r.Post("/clients/{id}/contacts/{contact}/remove", c.removeContact)
	r.Post("/clients/{id}/lists", c.addToList)
	r.Post("/clients/{id}/lists/{list}/remove", c.removeFromList)
	r.Post("/clients/{id}/access/invite", c.appAction(func(r *http.Request, id uuid.UUID) (commands.Result, error) {
		return c.App.Invite.Handle(r.Context(), commands.InviteClient{Origin: origin(r), ClientID: id})
	}, "invitation_sent"))
	r.Post("/clients/{id}/access/validate", c.appAction(func(r *http.Request, id uuid.UUID) (commands.Result, error) {
		return c.App.Validate.Handle(r.Context(), commands.ValidateAccess{Origin: origin(r), ClientID: id})
	}, "access_validated"))
	r.Post("/clients/{id}/access/revoke", c.appAction(func(r *http.Request, id uuid.UUID) (commands.Result, error) {
		return c.App.Revoke.Handle(r.Context(), commands.RevokeAppAccess{Origin: origin(r), ClientID: id})
	}, "access_revoked"))
}

// clientAction runs a command on the client the path names. On success the
// browser goes back to the client's page at anchor with the flash; a
// refusal named by explain is shown on the page again (explain reports
// false for an error it does not know).
func (c *Console) clientAction(w http.ResponseWriter, r *http.Request, flash, anchor string,
	run func(id uuid.UUID) (commands.Result, error), explain func(p *page, err error) bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	res, err := run(id)
	if err == nil {
		http.Redirect(w, r, "/clients/"+id.String()+"?flash="+flash+"&at="+strconv.FormatInt(res.Position, 10)+"#"+anchor, http.StatusSeeOther)
		return
	}
	var own *domain.ManagedBySourceError
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &own):
		status = http.StatusConflict
		explain = func(p *page, _ error) bool {
			p.Errors[anchor] = p.T("client.managed_by_source", p.T("source."+own.Source))
			return true
		}
	case errors.Is(err, domain.ErrClientDeleted):
		status = http.StatusConflict
		explain = func(p *page, _ error) bool { p.Errors[anchor] = p.T("client.is_deleted"); return true }
	}
	probe := c.newPage(r, "clients", "", nil)
	if !explain(probe, err) {
		c.orFail(w, r, err)
		return
	}
	c.showClient(w, r, status, func(p *page) { explain(p, err) })
}

// readContact reads a contact person's form; prefix names its inputs
// ("contact.new." or "contact.<id>.").
func readContact(r *http.Request, prefix string) (map[string]string, map[string]string) {
	in, typed := map[string]string{}, map[string]string{}
	for _, f := range domain.ContactFields {
		v := strings.TrimSpace(r.PostFormValue(f))
		typed[prefix+f] = v
		in[f] = v
	}
	return in, typed
}

// contactErrors puts a refused contact person's reasons next to its fields.
func contactErrors(prefix string, typed map[string]string) func(*page, error) bool {
	return func(p *page, err error) bool {
		var verr domain.ValidationErrors
		if !errors.As(err, &verr) {
			return false
		}
		for _, e := range verr {
			if _, taken := p.Errors[prefix+e.Field]; !taken {
				p.Errors[prefix+e.Field] = fieldMessage(p.Lang, e, typed[prefix+e.Field])
			}
		}
		for k, v := range typed {
			p.Form[k] = v
		}
		return true
	}
}

func (c *Console) addContact(w http.ResponseWriter, r *http.Request) {
	in, typed := readContact(r, "contact.new.")
	c.clientAction(w, r, "contact_added", "contacts", func(id uuid.UUID) (commands.Result, error) {
		res, _, err := c.Commands.AddContactPerson.Handle(r.Context(), commands.AddContactPerson{Origin: origin(r), ClientID: id, Details: in})
		return res, err
	}, contactErrors("contact.new.", typed))
}

func (c *Console) changeContact(w http.ResponseWriter, r *http.Request) {
	contactID, err := uuid.Parse(chi.URLParam(r, "contact"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	prefix := "contact." + contactID.String() + "."
	in, typed := readContact(r, prefix)
	// Only what the user changed is sent, so a save never undoes someone
	// else's change to a field the user left alone.
	for _, f := range domain.ContactFields {
		if orig, ok := r.PostForm["orig."+f]; ok && orig[0] == in[f] {
			delete(in, f)
		}
	}
	c.clientAction(w, r, "contact_saved", "contacts", func(id uuid.UUID) (commands.Result, error) {
		return c.Commands.ChangeContactPerson.Handle(r.Context(), commands.ChangeContactPerson{Origin: origin(r), ClientID: id, ContactID: contactID, Details: in})
	}, func(p *page, err error) bool {
		if errors.Is(err, domain.ErrContactNotFound) {
			p.Errors["contacts"] = p.T("contact.gone")
			return true
		}
		return contactErrors(prefix, typed)(p, err)
	})
}

func (c *Console) removeContact(w http.ResponseWriter, r *http.Request) {
	contactID, err := uuid.Parse(chi.URLParam(r, "contact"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	c.clientAction(w, r, "contact_removed", "contacts", func(id uuid.UUID) (commands.Result, error) {
		return c.Commands.RemoveContactPerson.Handle(r.Context(), commands.RemoveContactPerson{Origin: origin(r), ClientID: id, ContactID: contactID})
	}, func(p *page, err error) bool {
		if errors.Is(err, domain.ErrContactNotFound) {
			p.Errors["contacts"] = p.T("contact.gone")
			return true
		}
		return false
	})
}

func (c *Console) addToList(w http.ResponseWriter, r *http.Request) {
	listID, perr := uuid.Parse(r.PostFormValue("list"))
	c.clientAction(w, r, "added_to_list", "lists", func(id uuid.UUID) (commands.Result, error) {
		if perr != nil {
			return commands.Result{}, domain.ErrListNotFound
		}
		return c.Commands.AddClientToList.Handle(r.Context(), commands.AddClientToList{Origin: origin(r), ClientID: id, ListID: listID})
	}, func(p *page, err error) bool {
		if errors.Is(err, domain.ErrListNotFound) || errors.Is(err, domain.ErrListDeleted) {
			p.Errors["list"] = p.T("client.list_gone")
			return true
		}
		return false
	})
}

func (c *Console) removeFromList(w http.ResponseWriter, r *http.Request) {
	listID, err := uuid.Parse(chi.URLParam(r, "list"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	c.clientAction(w, r, "removed_from_list", "lists", func(id uuid.UUID) (commands.Result, error) {
		return c.Commands.RemoveClientFromList.Handle(r.Context(), commands.RemoveClientFromList{Origin: origin(r), ClientID: id, ListID: listID})
	}, func(*page, error) bool { return false })
}

// appAction runs an app access command; a refusal (no registration yet,
// already registered) is shown in the app access section.
func (c *Console) appAction(run func(*http.Request, uuid.UUID) (commands.Result, error), flash string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.App == nil {
			c.renderError(w, r, http.StatusNotFound, "error.not_found")
			return
		}
		c.clientAction(w, r, flash, "access", func(id uuid.UUID) (commands.Result, error) { return run(r, id) },
			func(p *page, err error) bool {
				switch {
				case errors.Is(err, domain.ErrNoAppRegistration):
					p.Errors["access"] = p.T("access.not_registered")
				case errors.Is(err, domain.ErrAlreadyRegistered):
					p.Errors["access"] = p.T("access.already_registered")
				default:
					return false
				}
				return true
			})
	}
}
