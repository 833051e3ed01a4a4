package http

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
)

// AppDeps is what the routes of the client's app need.
type AppDeps struct {
	Commands commands.AppHandlers
	Repo     commands.AppRegistrationRepository
	Access   commands.AppAccessQuery
}

// SetApp plugs the app routes' dependencies in.
func (s *Server) SetApp(d AppDeps) { s.app = &d }

func (s *Server) appDeps(w http.ResponseWriter, r *http.Request) (*AppDeps, bool) {
	if s.app == nil {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "the app routes are not enabled on this server"))
		return nil, false
	}
	return s.app, true
}

func (s *Server) inviteClient(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Invite.Handle(ctx, commands.InviteClient{Origin: origin(r), ClientID: id})
	})
}

func (s *Server) validateAccess(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Validate.Handle(ctx, commands.ValidateAccess{Origin: origin(r), ClientID: id})
	})
}

func (s *Server) revokeAccess(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Revoke.Handle(ctx, commands.RevokeAppAccess{Origin: origin(r), ClientID: id})
	})
}

func (s *Server) rejectClientRegistration(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Reject.Handle(ctx, commands.RejectAppRegistration{Origin: origin(r), ClientID: id})
	})
}

func (s *Server) rejectAppRegistration(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Reject.Handle(ctx, commands.RejectAppRegistration{Origin: origin(r), RegistrationID: id})
	})
}

func (s *Server) linkAppRegistration(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	var body struct {
		ClientID uuid.UUID `json:"client_id"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return d.Commands.Link.Handle(ctx, commands.LinkAppRegistration{Origin: origin(r), RegistrationID: id, ClientID: body.ClientID})
	})
}

type appRegistrationBody struct {
	Email  string `json:"email"`
	Device string `json:"device"`
}

func (s *Server) registerAppUser(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	var body appRegistrationBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := d.Commands.Register.Handle(r.Context(), commands.RegisterAppUser{Origin: origin(r), Email: body.Email, Device: body.Device})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) pendingAppRegistrations(w http.ResponseWriter, r *http.Request) {
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	items, err := d.Repo.Pending(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
