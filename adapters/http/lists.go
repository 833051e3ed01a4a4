package http

import (
	"net/http"
	"strings"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

type listBody struct {
	Name string `json:"name"`
}

func (s *Server) createList(w http.ResponseWriter, r *http.Request) {
	var body listBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.CreateList.Handle(r.Context(), commands.CreateList{Origin: origin(r), Name: body.Name})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/lists/"+res.ID.String())
	writeResult(w, http.StatusCreated, res)
}

func (s *Server) renameList(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	var body listBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.RenameList.Handle(r.Context(), commands.RenameList{Origin: origin(r), ListID: id, ExpectedVersion: version, Name: body.Name})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

// deleteList deletes a list; with {"delete_clients": true} (admin) also the
// clients that were on it only, answering what it deleted and what it kept.
func (s *Server) deleteList(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	var body struct {
		DeleteClients bool `json:"delete_clients"`
	}
	if err := decodeJSON(r, &body, true); err != nil {
		writeError(w, r, err)
		return
	}
	if !body.DeleteClients {
		res, err := s.commands.DeleteList.Handle(r.Context(), commands.DeleteList{Origin: origin(r), ListID: id, ExpectedVersion: version})
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeResult(w, http.StatusOK, res)
		return
	}
	if !principalFrom(r.Context()).Can(domain.RoleAdmin) {
		writeError(w, r, newError(http.StatusForbidden, "forbidden", "deleting a list with its clients needs the admin role"))
		return
	}
	res, err := s.commands.DeleteListWithClients.Handle(r.Context(), commands.DeleteListWithClients{Origin: origin(r), ListID: id, ExpectedVersion: version})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, res.Version, res)
}

// restoreList undoes a list's deletion, once, with the clients it took.
func (s *Server) restoreList(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.RestoreList.Handle(r.Context(), commands.RestoreList{Origin: origin(r), ListID: id})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, res.Version, res)
}

func (s *Server) getLists(w http.ResponseWriter, r *http.Request) {
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	lists, err := s.reads.Lists(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": lists})
}

type customFieldBody struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Options []string `json:"options"`
}

func (s *Server) defineCustomField(w http.ResponseWriter, r *http.Request) {
	var body customFieldBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.DefineCustomField.Handle(r.Context(), commands.DefineCustomField{
		Origin: origin(r), Name: body.Name, Type: body.Type, Options: body.Options})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"name": strings.TrimSpace(body.Name), "version": res.Version, "position": res.Position})
}

func (s *Server) getCustomFields(w http.ResponseWriter, r *http.Request) {
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	fields, err := s.reads.CustomFields(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": fields})
}
