package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Adapters map them to transport codes in one place.
var (
	ErrValidation          = errors.New("validation failed")
	ErrClientNotFound      = errors.New("client not found")
	ErrListNotFound        = errors.New("list not found")
	ErrContactNotFound     = errors.New("contact person not found")
	ErrConcurrencyConflict = errors.New("concurrency conflict")
	ErrDuplicate           = errors.New("already taken")
	ErrClientDeleted       = errors.New("client is deleted")
	ErrClientNotDeleted    = errors.New("client is not deleted")
	ErrListDeleted         = errors.New("list is deleted")
	ErrPersonalDataErased  = errors.New("personal data of this client was erased")
)

// FieldError says which field is wrong and why, in words a user understands.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationErrors collects every problem found in one input, so a user can
// fix them all at once instead of one per round trip.
type ValidationErrors []FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Field + ": " + e.Message
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

func (v ValidationErrors) Is(target error) bool { return target == ErrValidation }

// orNil turns an empty collection into a nil error.
func (v ValidationErrors) orNil() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

func (v *ValidationErrors) add(field, code, format string, args ...any) {
	*v = append(*v, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// prefixed re-roots field names, e.g. "email" -> "contact_persons[2].email".
func (v ValidationErrors) prefixed(prefix string) ValidationErrors {
	out := make(ValidationErrors, len(v))
	for i, e := range v {
		e.Field = prefix + e.Field
		out[i] = e
	}
	return out
}

// ConflictError reports an append against a stream that moved on.
type ConflictError struct {
	StreamID        string
	ExpectedVersion int
	CurrentVersion  int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("stream %s is at version %d, not %d", e.StreamID, e.CurrentVersion, e.ExpectedVersion)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConcurrencyConflict }

// DuplicateError reports a unique value (email, external id, list name) that
// another stream already holds.
type DuplicateError struct {
	Field   string
	OwnerID string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s is already used by %s", e.Field, e.OwnerID)
}

func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }
