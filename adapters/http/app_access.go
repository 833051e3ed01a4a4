package http

import (
	"net/http"

	"github.com/clientreg/clientreg/domain"
)

// confineAppRole keeps the app role to the one question it exists for:
// whatever route is added later, an app token is refused there.
func confineAppRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r.Context()).Role == domain.RoleApp && !(r.Method == http.MethodGet && r.URL.Path == "/v1/app-access") {
			writeError(w, r, newError(http.StatusForbidden, "forbidden", "an app token may only ask GET /v1/app-access"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// appAccess answers the app's backend: granted, pending_validation or none.
func (s *Server) appAccess(w http.ResponseWriter, r *http.Request) {
	if p := principalFrom(r.Context()); p.Role != domain.RoleApp && !p.Can(domain.RoleEditor) {
		writeError(w, r, newError(http.StatusForbidden, "forbidden", "this needs the editor or app role"))
		return
	}
	d, ok := s.appDeps(w, r)
	if !ok {
		return
	}
	access, err := d.Access.Handle(r.Context(), principalFrom(r.Context()).TenantID, r.URL.Query().Get("email"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // validation and revocation count on the next call
	writeJSON(w, http.StatusOK, map[string]string{"access": access})
}
