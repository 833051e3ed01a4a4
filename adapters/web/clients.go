package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

func (c *Console) clientRoutes(r chi.Router) {
	r.Get("/clients", c.clientsPage)
	r.Get("/clients/{id}", c.clientPage)
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleEditor))
		r.Get("/clients/new", c.newClientPage)
		r.Post("/clients/new", c.addClient)
		r.Get("/clients/{id}/edit", c.editClientPage)
		r.Post("/clients/{id}/edit", c.editClient)
		r.Get("/clients/{id}/delete", c.deleteClientPage)
		r.Post("/clients/{id}/delete", c.deleteClient)
		r.Post("/clients/{id}/restore", c.restoreClient)
		c.clientActionRoutes(r)
	})
}

// clientsData is the clients page: the filters as chosen, their choices and
// one page of results.
type clientsData struct {
	Q, Status, List, Source string
	Import, ImportLabel     string
	Sort, Access            string
	// SortURL is where a column header's link goes: its order, or the
	// reverse when the table is already in it.
	SortURL           map[string]string
	Lists             []projections.ListView
	Page              projections.ClientPage
	Cursor            string
	NextURL, FirstURL string
}

func (c *Console) clientsPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	u, _ := userFrom(r.Context())
	q := r.URL.Query()
	d := clientsData{Q: q.Get("q"), Status: q.Get("status"), List: q.Get("list"), Source: q.Get("source"), Cursor: q.Get("cursor"),
		Import: q.Get("import"), Sort: q.Get("sort"), Access: q.Get("access")}
	if !slices.Contains(projections.ClientSorts, d.Sort) {
		d.Sort = ""
	}
	if !slices.Contains(accessStatuses, d.Access) {
		d.Access = ""
	}
	f := projections.ClientFilter{Query: d.Q, Status: d.Status, Source: d.Source, Cursor: d.Cursor, Limit: 50,
		Sort: d.Sort, Access: d.Access}
	if d.Status != "" && d.Status != "deleted" && d.Status != "all" {
		d.Status, f.Status = "", ""
	}
	if id, err := uuid.Parse(d.List); err == nil {
		f.ListID = &id
	} else {
		d.List = ""
	}
	if id, err := uuid.Parse(d.Import); err == nil {
		imp, err := c.Reads.Import(r.Context(), u.TenantID, id)
		if err != nil {
			c.orFail(w, r, err)
			return
		}
		f.ImportID, d.ImportLabel = &id, imp.Label
	} else {
		d.Import = ""
	}
	page, err := c.Reads.SearchClients(r.Context(), u.TenantID, f)
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	d.Page = page
	if d.Lists, err = c.Reads.Lists(r.Context(), u.TenantID); err != nil {
		c.fail(w, r, err)
		return
	}
	keep := url.Values{}
	for k, v := range map[string]string{"q": d.Q, "status": d.Status, "list": d.List, "source": d.Source, "import": d.Import,
		"access": d.Access, "sort": d.Sort} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	d.SortURL = map[string]string{}
	for col, first := range map[string]string{"name": "name", "updated": "-updated"} {
		next := url.Values{}
		for k, v := range keep {
			next[k] = v
		}
		order := first
		if cur := d.Sort; cur == first || cur == "" && first == "name" {
			order = reverseSort(first)
		}
		next.Set("sort", order)
		d.SortURL[col] = "/clients?" + next.Encode()
	}
	d.FirstURL = "/clients"
	if len(keep) > 0 {
		d.FirstURL += "?" + keep.Encode()
	}
	if page.NextCursor != "" {
		keep.Set("cursor", page.NextCursor)
		d.NextURL = "/clients?" + keep.Encode()
	}
	c.render(w, r, http.StatusOK, "clients", c.newPage(r, "clients", "clients.title", d))
}

// accessStatuses are the app access statuses the filter offers.
var accessStatuses = []string{domain.AccessNotInvited, domain.AccessInvited, domain.AccessRegistered,
	domain.AccessPendingValidation, domain.AccessValidated, domain.AccessRevoked}

func reverseSort(s string) string {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return rest
	}
	return "-" + s
}

// clientName is how a client is named in lists and titles.
func clientName(v projections.ClientView) string {
	if v.DisplayName != "" {
		return v.DisplayName
	}
	if v.Kind == "company" && v.CompanyName != "" {
		return v.CompanyName
	}
	if n := strings.TrimSpace(v.FirstName + " " + v.LastName); n != "" {
		return n
	}
	if v.CompanyName != "" {
		return v.CompanyName
	}
	return v.Email
}
