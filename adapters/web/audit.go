package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// LiveURL is the live stream of the events after this page's, on the
	// last page only (on an earlier one they are the next pages).
	LiveURL, RefreshURL string
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
		d.Events = append(d.Events, auditRowOf(p, people, e))
	}
	typeQuery := ""
	if d.Type != "" {
		typeQuery = "&type=" + urlQueryEscape(d.Type)
	}
	after := "?after=" + strconv.FormatInt(page.NextAfter, 10) + typeQuery
	if len(page.Items) == f.Limit {
		d.NextURL = "/audit" + after
	} else {
		d.LiveURL = "/audit/stream" + after
		d.RefreshURL = "/audit?after=" + strconv.FormatInt(d.After, 10) + typeQuery
	}
	c.render(w, r, http.StatusOK, "audit", p)
}

func auditRowOf(p *page, people map[string]string, e projections.FeedEvent) auditRow {
	row := auditRow{FeedEvent: e, What: eventWords(p, e.Type), Who: actorWords(p, people, e.Actor)}
	switch e.StreamType {
	case domain.StreamClient:
		row.Link = "/clients/" + e.StreamID.String()
	case domain.StreamImport:
		row.Link = "/imports/" + e.StreamID.String()
	}
	return row
}

// How often an idle live audit looks for new events, and sends a comment
// so proxies keep the connection.
var (
	auditStreamPoll      = 500 * time.Millisecond
	auditStreamKeepalive = 15 * time.Second
)

// auditStream is the audit page's live stream: the events after the page's
// last, as server-sent events whose data is the row the page shows (the
// same template), followed through the feed query the API's stream uses.
func (c *Console) auditStream(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	q := r.URL.Query()
	f := projections.EventFilter{Limit: 200}
	after := q.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after = id // a reconnection resumes after the last row it received
	}
	var err error
	if f.After, err = strconv.ParseInt(after, 10, 64); err != nil || f.After < 0 {
		http.Error(w, "after must be a position of the feed", http.StatusBadRequest)
		return
	}
	if t := q.Get("type"); t != "" {
		f.Types = []string{t}
	}
	t := c.pages["audit"]
	p := c.newPage(r, "audit", "nav.audit", nil)
	people := c.people(r)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	lastWrite := time.Now()
	var buf bytes.Buffer
	err = projections.FollowFeed(r.Context(), c.Audit.Events, u.TenantID, f, auditStreamPoll, c.streamsDone,
		func(events []projections.FeedEvent) bool {
			for _, e := range events {
				buf.Reset()
				if err := t.ExecuteTemplate(&buf, "audit-row", auditRowOf(p, people, e)); err != nil {
					c.Logger.Warn("audit stream stopped", "error", err)
					return false
				}
				html := strings.ReplaceAll(strings.TrimSpace(buf.String()), "\n", "\ndata: ")
				if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.Position, html); err != nil {
					return false
				}
			}
			if len(events) > 0 {
				lastWrite = time.Now()
			} else if time.Since(lastWrite) >= auditStreamKeepalive {
				if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
					return false
				}
				lastWrite = time.Now()
			}
			return rc.Flush() == nil
		})
	if err != nil {
		c.Logger.Warn("audit stream stopped", "error", err)
	}
}
