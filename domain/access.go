package domain

import (
	"errors"

	"github.com/google/uuid"
)

// Roles a token or a person holds in a tenant, from least to most.
const (
	RoleViewer = "viewer" // reads
	RoleEditor = "editor" // clients, contact persons, lists
	RoleAdmin  = "admin"  // imports, undo, connections, settings
	// RoleApp is the office app's backend: it may ask GET /v1/app-access
	// and nothing else, so it ranks nowhere.
	RoleApp = "app"
)

// roleRank orders the roles: a higher role may do all a lower one may.
var roleRank = map[string]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}

var (
	ErrInvalidToken = errors.New("invalid or revoked token")
	ErrInvalidRole  = errors.New("role must be admin, editor, viewer or app")
)

// Principal is who a request acts as: an API token or a console user.
type Principal struct {
	TenantID uuid.UUID
	TokenID  uuid.UUID // an API token's
	UserID   uuid.UUID // a console user's
	Role     string
}

// Actor is how the principal's events name who did it.
func (p Principal) Actor() string {
	if p.UserID != uuid.Nil {
		return "user:" + p.UserID.String()
	}
	return "token:" + p.TokenID.String()
}

// Can reports whether the principal holds at least the given role.
func (p Principal) Can(role string) bool {
	return roleRank[p.Role] >= roleRank[role] && roleRank[role] > 0
}

// ValidRole reports whether role is one of the roles.
func ValidRole(role string) bool { return roleRank[role] > 0 || role == RoleApp }
