package domain

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// People sign in to the console with an email and a password; machines use
// API tokens. A user belongs to one tenant and holds one role.
var (
	ErrInvalidCredentials = errors.New("unknown email or wrong password")
	ErrUserExists         = errors.New("a user with this email exists already")
	ErrUserNotFound       = errors.New("user not found")
	ErrSessionNotFound    = errors.New("session unknown or expired")
)

// User is a person who signs in to the console.
type User struct {
	ID       uuid.UUID
	TenantID uuid.UUID
	Email    string
	Role     string
	// MustSetPassword: the user signed in with a one-time password and
	// chooses their own before anything else.
	MustSetPassword bool
	CreatedAt       time.Time
	LastSignInAt    *time.Time
}

// Principal is who the user acts as.
func (u User) Principal() Principal {
	return Principal{TenantID: u.TenantID, UserID: u.ID, Role: u.Role}
}

// ThrottledError refuses a sign-in after too many failed attempts until
// RetryAfter has passed, whatever the password.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return "too many failed sign-in attempts; retry in " + strconv.Itoa(int(e.RetryAfter.Seconds()+0.5)) + " s"
}

// Sign-in throttling: the first FreeSignInFailures failures cost nothing;
// then the next attempt is not even checked before FirstSignInWait has
// passed, and each further failure doubles the wait, up to MaxSignInWait.
const (
	FreeSignInFailures = 3
	FirstSignInWait    = 5 * time.Second
	MaxSignInWait      = 15 * time.Minute
)

// SignInWait is how long after its last failure an account with failures
// failed attempts in a row must wait.
func SignInWait(failures int) time.Duration {
	if failures < FreeSignInFailures {
		return 0
	}
	n := failures - FreeSignInFailures
	if n > 10 {
		return MaxSignInWait
	}
	return min(FirstSignInWait<<n, MaxSignInWait)
}

// UserEmail checks and normalises a user's email: trimmed, lower case.
func UserEmail(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", ValidationErrors{{Field: "email", Code: "required", Message: "an email address is required"}}
	}
	if ferr := checkText("email", v); ferr != nil {
		return "", ValidationErrors{*ferr}
	}
	v, ferr := normalizeEmail("email", v)
	if ferr != nil {
		return "", ValidationErrors{*ferr}
	}
	return EmailKey(v), nil
}

// Password lengths: bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72
)

// CheckPassword states what a chosen password must be.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return ValidationErrors{{Field: "password", Code: "invalid_text", Message: "contains bytes that are not valid text (UTF-8)"}}
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return ValidationErrors{{Field: "password", Code: "password_too_short",
			Message: "is too short: use at least " + strconv.Itoa(MinPasswordLength) + " characters"}}
	case len(pw) > MaxPasswordBytes:
		return ValidationErrors{{Field: "password", Code: "password_too_long",
			Message: "is too long: use at most " + strconv.Itoa(MaxPasswordBytes) + " bytes"}}
	}
	return nil
}
