package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// clientFields are the form's fields, in the order people fill them.
var clientFields = []domain.Field{
	domain.FieldKind, domain.FieldFirstName, domain.FieldLastName, domain.FieldCompanyName, domain.FieldDisplayName,
	domain.FieldEmail, domain.FieldPhone, domain.FieldLanguage, domain.FieldVATNumber,
	domain.FieldStreet, domain.FieldHouseNumber, domain.FieldBox, domain.FieldPostalCode, domain.FieldCity, domain.FieldCountry,
	domain.FieldNotes,
}

// clientPageData is a client's page: the client, its lists and custom
// fields by name, and its timeline, newest first.
type clientPageData struct {
	Client   projections.ClientView
	Name     string
	Lists    []projections.ListView
	Fields   []projections.CustomFieldView
	Timeline []timelineEntry
	// OtherLists are the lists the client is not on, to add it to.
	OtherLists []projections.ListView
	// App is the app access with its dates; nil when the server has no
	// app routes.
	App *domain.AppAccessView
}

type timelineEntry struct {
	At      string
	What    string
	Who     string
	Via     string
	Reason  string
	Changes []changeView
}

type changeView struct{ Field, Old, New string }

// clientFormData is the add and edit form.
type clientFormData struct {
	ID       uuid.UUID
	Version  int
	Fields   []projections.CustomFieldView
	Conflict []timelineEntry // what someone else changed meanwhile
	// Orig holds the values the form was filled with: a save sends only
	// the fields the user changed, so it never undoes someone else's
	// change to a field the user left alone.
	Orig map[string]string
}

func (c *Console) clientPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	c.showClient(w, r, http.StatusOK, nil)
}

// showClient renders the client's page; adjust, when set, puts a refused
// action's reasons next to its fields.
func (c *Console) showClient(w http.ResponseWriter, r *http.Request, status int, adjust func(*page)) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	v, err := c.Reads.Client(r.Context(), u.TenantID, id)
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	d := clientPageData{Client: v, Name: clientName(v)}
	if d.Lists, err = c.Reads.Lists(r.Context(), u.TenantID); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, l := range d.Lists {
		if !slices.Contains(v.Lists, l.ID) {
			d.OtherLists = append(d.OtherLists, l)
		}
	}
	if c.App != nil {
		app, err := c.App.View.Handle(r.Context(), u.TenantID, id)
		switch {
		case err == nil:
			d.App = &app
		case !errors.Is(err, domain.ErrPersonalDataErased):
			c.orFail(w, r, err)
			return
		}
	}
	history, err := c.Audit.ClientHistory(r.Context(), u.TenantID, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "clients", "", &d)
	p.Title = d.Name
	d.Timeline = c.timeline(r, p, history, d.Lists, 0)
	if adjust != nil {
		adjust(p)
	}
	c.render(w, r, status, "client", p)
}

// timeline renders the entries after version since, newest first, naming
// people by their email and imports by their label.
func (c *Console) timeline(r *http.Request, p *page, history []projections.HistoryEntry, lists []projections.ListView, since int) []timelineEntry {
	u, _ := userFrom(r.Context())
	people := map[string]string{}
	if users, err := c.Users.Users(r.Context(), u.TenantID); err == nil {
		for _, x := range users {
			people["user:"+x.ID.String()] = x.Email
		}
	}
	out := []timelineEntry{}
	for _, h := range slices.Backward(history) {
		if h.Version <= since {
			continue
		}
		e := timelineEntry{At: h.At.Local().Format("2006-01-02 15:04"), What: eventWords(p, h.Event), Reason: h.Reason}
		switch {
		case people[h.Actor] != "":
			e.Who = people[h.Actor]
		case strings.HasPrefix(h.Actor, "token:"):
			e.Who = p.T("timeline.api")
		case strings.HasPrefix(h.Actor, "user:"):
			e.Who = p.T("timeline.former_user")
		default:
			e.Who = p.T("timeline.system")
		}
		switch h.Cause.Kind {
		case projections.CauseImport, projections.CauseUndo:
			e.Via = p.T("timeline.via_"+h.Cause.Kind, h.Cause.ImportLabel)
			if h.Cause.Row > 0 {
				e.Via += " · " + p.T("timeline.row", h.Cause.Row)
			}
		case projections.CauseSync:
			e.Via = p.T("timeline.via_sync")
		}
		for _, ch := range h.Changes {
			if ch.Field == "status" {
				continue // the event's own name says it
			}
			e.Changes = append(e.Changes, changeView{Field: fieldWords(p, ch.Field, lists), Old: deref(ch.Old), New: deref(ch.New)})
		}
		out = append(out, e)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// eventWords names an event in the page's language, or spells out its name.
func eventWords(p *page, name string) string {
	if hasMessage("event." + name) {
		return p.T("event." + name)
	}
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fieldWords names a changed field: "Email", "List Newsletter",
// "Contact person: Phone", "vip" (a custom field).
func fieldWords(p *page, key string, lists []projections.ListView) string {
	switch {
	case strings.HasPrefix(key, "lists."):
		id := strings.TrimPrefix(key, "lists.")
		for _, l := range lists {
			if l.ID.String() == id {
				return p.T("timeline.list", l.Name)
			}
		}
		return p.T("timeline.list", "…")
	case strings.HasPrefix(key, "custom_fields."):
		return strings.TrimPrefix(key, "custom_fields.")
	case strings.HasPrefix(key, "contact_persons."):
		parts := strings.Split(key, ".")
		return p.T("timeline.contact", fieldLabel(p, parts[len(parts)-1]))
	}
	return fieldLabel(p, strings.TrimPrefix(key, "address."))
}

func fieldLabel(p *page, name string) string {
	if hasMessage("label." + name) {
		return p.T("label." + name)
	}
	return name
}

func (c *Console) newClientPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "clients", "client.add_title", &clientFormData{Fields: fields})
	p.Form[string(domain.FieldKind)] = domain.KindPerson
	c.render(w, r, http.StatusOK, "client_form", p)
}

// formInput reads the form into a command's input: every field is sent,
// so an emptied field is cleared.
func formInput(r *http.Request, fields []projections.CustomFieldView) (domain.ClientInput, map[string]string) {
	typed := map[string]string{}
	in := domain.ClientInput{Details: map[domain.Field]string{}, CustomFields: map[string]string{}}
	for _, f := range clientFields {
		v := r.PostFormValue(string(f))
		if f != domain.FieldNotes {
			v = strings.TrimSpace(v)
		}
		typed[string(f)] = v
		in.Details[f] = v
	}
	for _, f := range fields {
		v := strings.TrimSpace(r.PostFormValue("custom_fields." + f.Name))
		typed["custom_fields."+f.Name] = v
		in.CustomFields[f.Name] = v
	}
	return in, typed
}

func (c *Console) addClient(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	in, typed := formInput(r, fields)
	for name, v := range in.CustomFields {
		if v == "" {
			delete(in.CustomFields, name) // nothing to clear on a new client
		}
	}
	res, err := c.Commands.RegisterClient.Handle(r.Context(), commands.RegisterClient{Origin: origin(r), Input: in})
	if err != nil {
		p := c.newPage(r, "clients", "client.add_title", &clientFormData{Fields: fields})
		p.Form = typed
		if c.formErrors(w, r, p, err) {
			c.render(w, r, http.StatusUnprocessableEntity, "client_form", p)
		}
		return
	}
	http.Redirect(w, r, "/clients/"+res.ID.String()+"?flash=client_added&at="+strconv.FormatInt(res.Position, 10), http.StatusSeeOther)
}

// formErrors puts a refused command's reasons next to their fields; it
// reports false when it answered the request itself (an unexpected error).
func (c *Console) formErrors(w http.ResponseWriter, r *http.Request, p *page, err error) bool {
	var (
		verr domain.ValidationErrors
		dup  *domain.DuplicateError
		own  *domain.ManagedBySourceError
	)
	switch {
	case errors.As(err, &verr):
		for _, e := range verr {
			if _, taken := p.Errors[e.Field]; !taken {
				p.Errors[e.Field] = fieldMessage(p.Lang, e, p.Form[e.Field])
			}
		}
		p.Errors["form"] = p.T("form.fix_fields")
	case errors.As(err, &dup):
		p.Errors[dup.Field] = p.T("field.duplicate")
		p.Errors["form"] = p.T("form.fix_fields")
	case errors.As(err, &own):
		p.Errors["form"] = p.T("client.managed_by_source", p.T("source."+own.Source))
	case errors.Is(err, domain.ErrClientDeleted):
		p.Errors["form"] = p.T("client.is_deleted")
	default:
		c.orFail(w, r, err)
		return false
	}
	return true
}

func (c *Console) editClientPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	v, err := c.Reads.Client(r.Context(), u.TenantID, id)
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "clients", "client.edit_title", &clientFormData{ID: v.ID, Version: v.Version, Fields: fields, Orig: viewForm(v, fields)})
	p.Form = viewForm(v, fields)
	c.render(w, r, http.StatusOK, "client_form", p)
}

// viewForm fills the form from the read model.
func viewForm(v projections.ClientView, fields []projections.CustomFieldView) map[string]string {
	f := map[string]string{
		"kind": v.Kind, "first_name": v.FirstName, "last_name": v.LastName, "company_name": v.CompanyName,
		"display_name": v.DisplayName, "email": v.Email, "phone": v.Phone, "language": v.Language,
		"vat_number": v.VATNumber, "street": v.Address.Street, "house_number": v.Address.HouseNumber,
		"box": v.Address.Box, "postal_code": v.Address.PostalCode, "city": v.Address.City,
		"country": v.Address.Country, "notes": v.Notes,
	}
	for _, cf := range fields {
		f["custom_fields."+cf.Name] = v.CustomFields[cf.Name]
	}
	return f
}

// changedOnly keeps in the input the fields whose value differs from the
// one the form was filled with.
func changedOnly(r *http.Request, in domain.ClientInput, typed map[string]string) (domain.ClientInput, map[string]bool) {
	changed := map[string]bool{}
	for f := range in.Details {
		if orig, ok := r.PostForm["orig."+string(f)]; ok && orig[0] == typed[string(f)] {
			delete(in.Details, f)
		} else {
			changed[string(f)] = true
		}
	}
	for name := range in.CustomFields {
		key := "custom_fields." + name
		if orig, ok := r.PostForm["orig."+key]; ok && orig[0] == typed[key] {
			delete(in.CustomFields, name)
		} else {
			changed[key] = true
		}
	}
	return in, changed
}

func (c *Console) editClient(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || version < 1 {
		c.renderError(w, r, http.StatusBadRequest, "error.csrf")
		return
	}
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	in, typed := formInput(r, fields)
	in, changed := changedOnly(r, in, typed)
	res, err := c.Commands.ChangeClientDetails.Handle(r.Context(), commands.ChangeClientDetails{
		Origin: origin(r), ClientID: id, ExpectedVersion: version, Input: in})
	if err == nil {
		http.Redirect(w, r, "/clients/"+id.String()+"?flash=client_saved&at="+strconv.FormatInt(res.Position, 10), http.StatusSeeOther)
		return
	}
	d := &clientFormData{ID: id, Version: version, Fields: fields, Orig: map[string]string{}}
	for k := range typed {
		d.Orig[k] = r.PostFormValue("orig." + k)
	}
	p := c.newPage(r, "clients", "client.edit_title", d)
	p.Form = typed
	var conflict *domain.ConflictError
	if errors.As(err, &conflict) {
		// Show what changed since the user's version; saving again now
		// applies their values over it, knowingly.
		history, herr := c.Audit.ClientHistory(r.Context(), u.TenantID, id)
		if herr != nil {
			c.fail(w, r, herr)
			return
		}
		lists, lerr := c.Reads.Lists(r.Context(), u.TenantID)
		if lerr != nil {
			c.fail(w, r, lerr)
			return
		}
		current, verr := c.Reads.Client(r.Context(), u.TenantID, id)
		if verr != nil {
			c.orFail(w, r, verr)
			return
		}
		d.Conflict = c.timeline(r, p, history, lists, version)
		d.Version = current.Version
		// The form now starts from the current values, with the user's
		// own changes on top.
		d.Orig = viewForm(current, fields)
		for k, v := range d.Orig {
			if !changed[k] {
				p.Form[k] = v
			}
		}
		p.Errors["form"] = p.T("client.conflict")
		c.render(w, r, http.StatusConflict, "client_form", p)
		return
	}
	if c.formErrors(w, r, p, err) {
		c.render(w, r, http.StatusUnprocessableEntity, "client_form", p)
	}
}

// confirmPage asks before a delete when the dialog could not (no script).
func (c *Console) deleteClientPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	v, err := c.Reads.Client(r.Context(), u.TenantID, id)
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	p := c.newPage(r, "clients", "client.delete_title", &clientPageData{Client: v, Name: clientName(v)})
	c.render(w, r, http.StatusOK, "client_delete", p)
}

func (c *Console) deleteClient(w http.ResponseWriter, r *http.Request) {
	c.clientCommand(w, r, "client_deleted", func(id uuid.UUID, version *int) (commands.Result, error) {
		return c.Commands.DeleteClient.Handle(r.Context(), commands.DeleteClient{Origin: origin(r), ClientID: id,
			ExpectedVersion: version, Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	})
}

func (c *Console) restoreClient(w http.ResponseWriter, r *http.Request) {
	c.clientCommand(w, r, "client_restored", func(id uuid.UUID, version *int) (commands.Result, error) {
		return c.Commands.RestoreClient.Handle(r.Context(), commands.RestoreClient{Origin: origin(r), ClientID: id, ExpectedVersion: version})
	})
}

// clientCommand runs a command from a button on the client's page and goes
// back to it, with the outcome on top.
func (c *Console) clientCommand(w http.ResponseWriter, r *http.Request, flash string, run func(uuid.UUID, *int) (commands.Result, error)) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	var version *int
	if v, err := strconv.Atoi(r.PostFormValue("version")); err == nil {
		version = &v
	}
	res, err := run(id, version)
	back := "/clients/" + id.String()
	var (
		conflict *domain.ConflictError
		own      *domain.ManagedBySourceError
	)
	switch {
	case err == nil:
		http.Redirect(w, r, back+"?flash="+flash+"&at="+strconv.FormatInt(res.Position, 10), http.StatusSeeOther)
	case errors.As(err, &conflict):
		http.Redirect(w, r, back+"?flash=changed_meanwhile", http.StatusSeeOther)
	case errors.As(err, &own):
		http.Redirect(w, r, back+"?flash=managed_by_source", http.StatusSeeOther)
	case errors.Is(err, domain.ErrClientDeleted), errors.Is(err, domain.ErrClientNotDeleted):
		http.Redirect(w, r, back+"?flash=changed_meanwhile", http.StatusSeeOther)
	case errors.Is(err, domain.ErrDuplicate):
		http.Redirect(w, r, back+"?flash=restore_taken", http.StatusSeeOther)
	default:
		var dup *domain.DuplicateError
		if errors.As(err, &dup) {
			http.Redirect(w, r, back+"?flash=restore_taken", http.StatusSeeOther)
			return
		}
		c.orFail(w, r, err)
	}
}
