package projections

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Errors of the query side.
var (
	// ErrInvalidCursor is returned for a cursor this server did not hand out.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrInvalidSort is returned for an order the search does not know.
	ErrInvalidSort = errors.New("invalid sort")
	// ErrPositionNotReached means the projections did not catch up in time.
	ErrPositionNotReached = errors.New("projections have not reached the requested position")
	// ErrNoSuchPosition means no event was ever written at that position.
	ErrNoSuchPosition = errors.New("no event at this position")
)

// EventFilter selects events of the feed.
type EventFilter struct {
	After    int64
	Limit    int
	Types    []string
	StreamID *uuid.UUID
	Actor    string
	Since    time.Time
}

// EventPage is one page of the feed; NextAfter resumes after it (it is
// After again when the page is empty).
type EventPage struct {
	Items     []FeedEvent `json:"items"`
	NextAfter int64       `json:"next_after"`
}

// IssuePage is one page of an import's issues.
type IssuePage struct {
	Items      []IssueView
	NextCursor string
}

// ImportProgress is how far a running execution or undo is, as others see it.
type ImportProgress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}
