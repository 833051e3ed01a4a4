package http

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// clientBody is a client in a request. In PATCH, absent fields are left
// alone and "" clears one.
type clientBody struct {
	Kind         *string              `json:"kind"`
	FirstName    *string              `json:"first_name"`
	LastName     *string              `json:"last_name"`
	CompanyName  *string              `json:"company_name"`
	DisplayName  *string              `json:"display_name"`
	Email        *string              `json:"email"`
	Language     *string              `json:"language"`
	Phone        *string              `json:"phone"`
	VATNumber    *string              `json:"vat_number"`
	Address      *addressBody         `json:"address"`
	Notes        *string              `json:"notes"`
	ExternalRefs []domain.ExternalRef `json:"external_refs"`
	CustomFields map[string]string    `json:"custom_fields"`
}

type addressBody struct {
	Street      *string `json:"street"`
	HouseNumber *string `json:"house_number"`
	Box         *string `json:"box"`
	PostalCode  *string `json:"postal_code"`
	City        *string `json:"city"`
	Country     *string `json:"country"`
}

func (b clientBody) input() domain.ClientInput {
	details := map[domain.Field]string{}
	set := func(f domain.Field, v *string) {
		if v != nil {
			details[f] = *v
		}
	}
	set(domain.FieldKind, b.Kind)
	set(domain.FieldFirstName, b.FirstName)
	set(domain.FieldLastName, b.LastName)
	set(domain.FieldCompanyName, b.CompanyName)
	set(domain.FieldDisplayName, b.DisplayName)
	set(domain.FieldEmail, b.Email)
	set(domain.FieldLanguage, b.Language)
	set(domain.FieldPhone, b.Phone)
	set(domain.FieldVATNumber, b.VATNumber)
	set(domain.FieldNotes, b.Notes)
	if a := b.Address; a != nil {
		set(domain.FieldStreet, a.Street)
		set(domain.FieldHouseNumber, a.HouseNumber)
		set(domain.FieldBox, a.Box)
		set(domain.FieldPostalCode, a.PostalCode)
		set(domain.FieldCity, a.City)
		set(domain.FieldCountry, a.Country)
	}
	return domain.ClientInput{Details: details, CustomFields: b.CustomFields, ExternalRefs: b.ExternalRefs}
}

func (s *Server) registerClient(w http.ResponseWriter, r *http.Request) {
	var body clientBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.RegisterClient.Handle(r.Context(), commands.RegisterClient{Origin: origin(r), Input: body.input()})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/clients/"+res.ID.String())
	writeResult(w, http.StatusCreated, res)
}

func (s *Server) changeClient(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	version, err := ifMatch(r, true)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body clientBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.ChangeClientDetails.Handle(r.Context(), commands.ChangeClientDetails{
		Origin: origin(r), ClientID: id, ExpectedVersion: *version, Input: body.input()})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

type deleteBody struct {
	Reason string `json:"reason"`
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	var body deleteBody
	if err := decodeJSON(r, &body, true); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.DeleteClient.Handle(r.Context(), commands.DeleteClient{
		Origin: origin(r), ClientID: id, ExpectedVersion: version, Reason: body.Reason})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

func (s *Server) restoreClient(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	res, err := s.commands.RestoreClient.Handle(r.Context(), commands.RestoreClient{Origin: origin(r), ClientID: id, ExpectedVersion: version})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

// idAndVersion reads the {id} and an optional If-Match.
func (s *Server) idAndVersion(w http.ResponseWriter, r *http.Request) (uuid.UUID, *int, bool) {
	id, err := pathUUID(r, "id")
	if err == nil {
		var version *int
		if version, err = ifMatch(r, false); err == nil {
			return id, version, true
		}
	}
	writeError(w, r, err)
	return uuid.Nil, nil, false
}

type contactBody map[string]string

type contactResult struct {
	commands.Result
	ContactID uuid.UUID `json:"contact_id"`
}

func (s *Server) addContactPerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body contactBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, contactID, err := s.commands.AddContactPerson.Handle(r.Context(), commands.AddContactPerson{Origin: origin(r), ClientID: id, Details: body})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeVersioned(w, http.StatusCreated, res.Version, contactResult{Result: res, ContactID: contactID})
}

func (s *Server) changeContactPerson(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	contactID, err := pathUUID(r, "contactID")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body contactBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.ChangeContactPerson.Handle(r.Context(), commands.ChangeContactPerson{
		Origin: origin(r), ClientID: id, ContactID: contactID, ExpectedVersion: version, Details: body})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

func (s *Server) removeContactPerson(w http.ResponseWriter, r *http.Request) {
	id, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	contactID, err := pathUUID(r, "contactID")
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.commands.RemoveContactPerson.Handle(r.Context(), commands.RemoveContactPerson{
		Origin: origin(r), ClientID: id, ContactID: contactID, ExpectedVersion: version})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

func (s *Server) addClientToList(w http.ResponseWriter, r *http.Request) {
	s.membership(w, r, func(clientID, listID uuid.UUID, version *int) (commands.Result, error) {
		return s.commands.AddClientToList.Handle(r.Context(), commands.AddClientToList{
			Origin: origin(r), ClientID: clientID, ListID: listID, ExpectedVersion: version})
	})
}

func (s *Server) removeClientFromList(w http.ResponseWriter, r *http.Request) {
	s.membership(w, r, func(clientID, listID uuid.UUID, version *int) (commands.Result, error) {
		return s.commands.RemoveClientFromList.Handle(r.Context(), commands.RemoveClientFromList{
			Origin: origin(r), ClientID: clientID, ListID: listID, ExpectedVersion: version})
	})
}

func (s *Server) membership(w http.ResponseWriter, r *http.Request, run func(clientID, listID uuid.UUID, version *int) (commands.Result, error)) {
	clientID, version, ok := s.idAndVersion(w, r)
	if !ok {
		return
	}
	listID, err := pathUUID(r, "listID")
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := run(clientID, listID, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, http.StatusOK, res)
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if asOf := r.URL.Query().Get("as_of"); asOf != "" {
		s.clientAsOf(w, r, id, asOf)
		return
	}
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.reads.Client(r.Context(), principalFrom(r.Context()).TenantID, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(c.Version)))
	if s.app == nil {
		writeJSON(w, http.StatusOK, c)
		return
	}
	// The app access with its device and dates comes from the stream: the
	// device is sealed personal data, not in the read model.
	app, err := s.app.Commands.View.Handle(r.Context(), principalFrom(r.Context()).TenantID, id)
	switch {
	case errors.Is(err, domain.ErrClientNotFound), errors.Is(err, domain.ErrPersonalDataErased), errors.Is(err, domain.ErrClientDeleted):
		writeJSON(w, http.StatusOK, c)
		return
	case err != nil:
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		projections.ClientView
		App domain.AppAccessView `json:"app"`
	}{c, app})
}

func (s *Server) searchClients(w http.ResponseWriter, r *http.Request) {
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	filter := projections.ClientFilter{Query: q.Get("q"), Source: q.Get("source"), Status: q.Get("status"), Cursor: q.Get("cursor"),
		Access: q.Get("access"), Sort: q.Get("sort")}
	if filter.Sort != "" && !slices.Contains(projections.ClientSorts, filter.Sort) {
		writeError(w, r, newError(http.StatusBadRequest, "invalid_sort", "sort must be one of "+strings.Join(projections.ClientSorts, ", ")))
		return
	}
	switch filter.Access {
	case "", domain.AccessNotInvited, domain.AccessInvited, domain.AccessRegistered, domain.AccessPendingValidation,
		domain.AccessValidated, domain.AccessRevoked:
	default:
		writeError(w, r, newError(http.StatusBadRequest, "invalid_access",
			"access must be not_invited, invited, registered, pending_validation, validated or revoked"))
		return
	}
	switch filter.Status {
	case "", "active", "deleted", "erased", "all":
	default:
		writeError(w, r, newError(http.StatusBadRequest, "invalid_status", "status must be active, deleted, erased or all"))
		return
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 200 {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_limit", "limit must be between 1 and 200"))
			return
		}
		filter.Limit = n
	}
	tenant := principalFrom(r.Context()).TenantID
	if raw := q.Get("list"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_list", "list must be a list id"))
			return
		}
		exists, err := s.reads.ListExists(r.Context(), tenant, id)
		if err == nil && !exists {
			err = domain.ErrListNotFound
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		filter.ListID = &id
	}
	if raw := q.Get("import"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_import", "import must be an import id"))
			return
		}
		filter.ImportID = &id
	}
	page, err := s.reads.SearchClients(r.Context(), tenant, filter)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
