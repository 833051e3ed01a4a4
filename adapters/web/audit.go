package web

import (
	"net/http"
	"strconv"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// auditData is a page of the tenant's event feed, oldest first from After.
type auditData struct {
	Type    string
	Types   []string
	Events  []auditRow
	NextURL string
	After   int64
}

type auditRow struct {
	projections.FeedEvent
	What string
	Who  string
	Link string
}

// auditTypes are the event types the filter offers.
var auditTypes = []string{"ClientRegistered", "ClientDetailsChanged", "ClientDeleted", "ClientRestored", "ClientErased",
	"ClientAddedToList", "ClientRemovedFromList", "ImportExecuted", "ImportUndone", "ListCreated", "ListDeleted",
	"SourceConnected", "SyncCompleted", "ClientRemovedAtSource"}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	q := r.URL.Query()
	d := &auditData{Type: q.Get("type"), Types: auditTypes}
	d.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	f := projections.EventFilter{After: max(d.After, 0), Limit: 50}
	if d.Type != "" {
		f.Types = []string{d.Type}
	}
	page, err := c.Audit.Events(r.Context(), u.TenantID, f)
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	p := c.newPage(r, "audit", "nav.audit", d)
	people := c.people(r)
	for _, e := range page.Items {
		row := auditRow{FeedEvent: e, What: eventWords(p, e.Type), Who: actorWords(p, people, e.Actor)}
		switch e.StreamType {
		case domain.StreamClient:
			row.Link = "/clients/" + e.StreamID.String()
		case domain.StreamImport:
			row.Link = "/imports/" + e.StreamID.String()
		}
		d.Events = append(d.Events, row)
	}
	if len(page.Items) == f.Limit {
		next := "/audit?after=" + strconv.FormatInt(page.NextAfter, 10)
		if d.Type != "" {
			next += "&type=" + urlQueryEscape(d.Type)
		}
		d.NextURL = next
	}
	c.render(w, r, http.StatusOK, "audit", p)
}
