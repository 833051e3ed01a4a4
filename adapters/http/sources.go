package http

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// Headers of a signed ERP push.
const (
	HeaderPushTimestamp = "X-Clientreg-Timestamp"
	HeaderPushSignature = "X-Clientreg-Signature"
)

// pushBody is a client as an ERP pushes it: the client fields plus the
// ERP's own version time.
type pushBody struct {
	clientBody
	UpdatedAt *time.Time `json:"updated_at"`
}

type pushDeleteBody struct {
	UpdatedAt *time.Time `json:"updated_at"`
}

// pushClient is PUT (create or change) and DELETE of one client by an ERP,
// authenticated by the connection's secret instead of an API token.
func (s *Server) pushClient(w http.ResponseWriter, r *http.Request) {
	d, ok := s.connectionDeps(w, r)
	if !ok {
		return
	}
	connID, err := pathUUID(r, "connectionID")
	if err != nil {
		writeError(w, r, err)
		return
	}
	raw, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tenantID, err := d.Commands.Push.Authenticate(r.Context(), commands.PushRequest{ConnectionID: connID,
		Timestamp: r.Header.Get(HeaderPushTimestamp), Signature: r.Header.Get(HeaderPushSignature),
		Method: r.Method, Path: r.URL.EscapedPath(), Body: raw})
	if err != nil {
		writeError(w, r, err)
		return
	}
	extID := externalID(r)
	if err := domain.CheckParam("external_id", extID); err != nil {
		writeError(w, r, err)
		return
	}
	cmd := commands.PushClient{ConnectionID: connID, Record: domain.SourceRecord{ExternalID: extID}}
	if r.Method == http.MethodDelete {
		var body pushDeleteBody
		if err := decodeJSON(r, &body, true); err != nil {
			writeError(w, r, err)
			return
		}
		cmd.Record.Deleted, cmd.UpdatedAt = true, body.UpdatedAt
	} else {
		var body pushBody
		if err := decodeJSON(r, &body, false); err != nil {
			writeError(w, r, err)
			return
		}
		if len(body.ExternalRefs) > 0 || len(body.CustomFields) > 0 {
			writeError(w, r, domain.ValidationErrors{{Field: "external_refs", Code: "read_only",
				Message: "a push names its client in the path and carries client fields only"}})
			return
		}
		cmd.Record.Details, cmd.UpdatedAt = body.input().Details, body.UpdatedAt
	}
	res, err := d.Commands.Push.Handle(r.Context(), tenantID, cmd)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if res.ClientID == uuid.Nil && res.Outcome == "unchanged" && cmd.Record.Deleted {
		res.Outcome = "not_found"
	}
	writeJSON(w, http.StatusOK, res)
}

func externalID(r *http.Request) string {
	raw := chi.URLParam(r, "externalID")
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}
