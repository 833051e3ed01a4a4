package commands

import (
	"errors"

	"github.com/google/uuid"
)

var (
	// ErrIdempotencyKeyReused: the key was used before with another request.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different request")
	// ErrIdempotencyInProgress: the first request with this key is still running.
	ErrIdempotencyInProgress = errors.New("a request with this idempotency key is in progress")
)

// StoredResponse is the first answer given for an idempotency key.
type StoredResponse struct {
	Status   int
	Body     []byte
	ETag     string
	Location string
}

// IdempotencyClaim is a caller's hold on an idempotency key: only the
// owner that claimed it may complete or release it.
type IdempotencyClaim struct {
	TenantID uuid.UUID
	Key      string
	Owner    uuid.UUID
}
