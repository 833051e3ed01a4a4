package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/projections"
)

// historyPage is a timeline as the API returns it.
type historyPage struct {
	Items any `json:"items"`
}

func (s *Server) clientHistory(w http.ResponseWriter, r *http.Request) {
	s.streamHistory(w, r, s.audit.ClientHistory)
}

func (s *Server) importHistory(w http.ResponseWriter, r *http.Request) {
	s.streamHistory(w, r, s.audit.ImportHistory)
}

func (s *Server) connectionHistory(w http.ResponseWriter, r *http.Request) {
	s.streamHistory(w, r, s.audit.ConnectionHistory)
}

func (s *Server) streamHistory(w http.ResponseWriter, r *http.Request,
	read func(ctx context.Context, tenantID, id uuid.UUID) ([]projections.HistoryEntry, error)) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	entries, err := read(r.Context(), principalFrom(r.Context()).TenantID, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, historyPage{Items: entries})
}

// clientAsOf answers GET /clients/{id}?as_of=: the client folded from the
// log up to that moment.
func (s *Server) clientAsOf(w http.ResponseWriter, r *http.Request, id uuid.UUID, raw string) {
	at, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "invalid_as_of", "as_of must be a time like 2026-11-21T10:00:00Z"))
		return
	}
	c, err := s.audit.ClientAsOf(r.Context(), principalFrom(r.Context()).TenantID, id, at)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.reads.Stats(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

type eraseBody struct {
	Reason string `json:"reason"`
}

func (s *Server) eraseClient(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body eraseBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.imports.Commands.Erase.Handle(r.Context(), commands.EraseClient{Origin: origin(r), ClientID: id, Reason: body.Reason})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

// eventFilter reads the feed's query parameters; after comes from the
// query or, for a reconnecting event stream, from Last-Event-ID.
func eventFilter(r *http.Request) (projections.EventFilter, error) {
	q := r.URL.Query()
	var f projections.EventFilter
	after := q.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after = id
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return f, newError(http.StatusBadRequest, "invalid_after", "after must be a position (0 or more) the feed returned")
		}
		f.After = n
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1000 {
			return f, newError(http.StatusBadRequest, "invalid_limit", "limit must be between 1 and 1000")
		}
		f.Limit = n
	}
	if raw := q.Get("type"); raw != "" {
		f.Types = strings.Split(raw, ",")
	}
	if raw := q.Get("stream"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			return f, newError(http.StatusBadRequest, "invalid_stream", "stream must be a stream id")
		}
		f.StreamID = &id
	}
	f.Actor = q.Get("actor")
	if raw := q.Get("since"); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return f, newError(http.StatusBadRequest, "invalid_since", "since must be a time like 2026-11-21T10:00:00Z")
		}
		f.Since = t
	}
	return f, nil
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	f, err := eventFilter(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.audit.Events(r.Context(), principalFrom(r.Context()).TenantID, f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// Server-sent events: how often an idle stream looks for new events, and
// sends a comment so proxies keep the connection.
var (
	eventStreamPoll      = 500 * time.Millisecond
	eventStreamKeepalive = 15 * time.Second
)

// eventStream is the feed as server-sent events: each event's id is its
// position, so a client that reconnects with Last-Event-ID resumes after
// the last event it received.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request) {
	f, err := eventFilter(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	ctx := r.Context()
	f.Limit = 500
	lastWrite := time.Now()
	err = projections.FollowFeed(ctx, s.audit.Events, principalFrom(ctx).TenantID, f, eventStreamPoll, s.streamsDone,
		func(events []projections.FeedEvent) bool {
			for _, e := range events {
				data, err := json.Marshal(e)
				if err != nil {
					s.logger.Warn("event stream stopped", "error", err)
					return false
				}
				if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Position, e.Type, data); err != nil {
					return false
				}
			}
			if len(events) > 0 {
				lastWrite = time.Now()
			} else if time.Since(lastWrite) >= eventStreamKeepalive {
				if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
					return false
				}
				lastWrite = time.Now()
			}
			return rc.Flush() == nil
		})
	if err != nil {
		s.logger.Warn("event stream stopped", "error", err)
	}
}
