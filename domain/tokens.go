package domain

import (
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ErrTokenNotFound: no API token of the tenant has this id.
var ErrTokenNotFound = errors.New("API token not found")

// MaxTokenNameLength bounds a token's name: a few words saying what uses it.
const MaxTokenNameLength = 100

// APIToken is what is known of a machine's token; the token itself is
// shown once, when it is made, and only its hash is kept.
type APIToken struct {
	ID       uuid.UUID
	TenantID uuid.UUID
	Name     string
	Role     string
	// CreatedBy is the actor who made it ("user:…", "token:…"); empty for
	// the command line and a tenant's first token.
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenName checks a token's name: optional, one line.
func TokenName(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if p := textProblem("name", v, MaxTokenNameLength, false); p != nil {
		return "", ValidationErrors{*p}
	}
	return v, nil
}
