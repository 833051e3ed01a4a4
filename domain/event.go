package domain

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event is a past-tense fact. Its name and schema version together identify
// the shape of its payload; a change of shape gets a new version.
type Event interface {
	EventName() string
	SchemaVersion() int
}

// PersonalEvent is an event that carries personal data. The listed JSON
// fields are sealed with the subject's own key before they reach the log, so
// erasing the key makes them unreadable without touching the event.
type PersonalEvent interface {
	Event
	PersonalFields() []string
}

// Stream types.
const (
	StreamClient       = "client"
	StreamList         = "list"
	StreamCustomFields = "custom_fields"
)

// Envelope is what the log knows about an event besides its payload.
type Envelope struct {
	EventID       uuid.UUID
	EventName     string
	SchemaVersion int
	TenantID      uuid.UUID
	StreamType    string
	StreamID      uuid.UUID
	StreamVersion int
	Position      int64
	OccurredAt    time.Time
	Actor         string
	CorrelationID string
	CausationID   string
	// ImportID and ImportRow name the import and the row of its file the
	// event came from; zero on other events.
	ImportID  uuid.UUID
	ImportRow int
	// SyncRunID names the sync run of a connection the event came from; zero
	// on other events.
	SyncRunID uuid.UUID
	// PersonalDataErased is set when the subject's key is gone: the personal
	// fields of this event read as empty.
	PersonalDataErased bool
}

// RecordedEvent is an event as read back from the log.
type RecordedEvent struct {
	Envelope
	Event Event
}

// Origin says who asked for a change and on whose behalf; it ends up in the
// envelope of every event the change records.
type Origin struct {
	TenantID      uuid.UUID
	Actor         string
	CorrelationID string
	CausationID   string
	// ImportID is set on every event an import (or its undo) appends.
	ImportID uuid.UUID
	// SyncRunID is set on every event a sync run appends.
	SyncRunID uuid.UUID
}

// eventFactories maps "Name/version" to a constructor of an empty event, for
// decoding payloads.
var eventFactories = map[string]func() Event{}

func registerEvent(factory func() Event) {
	e := factory()
	eventFactories[eventKey(e.EventName(), e.SchemaVersion())] = factory
	latestVersion[e.EventName()] = max(latestVersion[e.EventName()], e.SchemaVersion())
}

// NewEvent returns an empty event of the given name and version, ready to be
// decoded into, or false when the log holds a type this build does not know.
func NewEvent(name string, version int) (Event, bool) {
	f, ok := eventFactories[eventKey(name, version)]
	if !ok {
		return nil, false
	}
	return f(), true
}

func eventKey(name string, version int) string {
	return name + "/" + strconv.Itoa(version)
}

// Aggregate is what a repository needs to load and save any stream.
type Aggregate interface {
	StreamType() string
	StreamID() uuid.UUID
	// Version is the stream version the aggregate was loaded at; pending
	// events are appended after it.
	Version() int
	PendingEvents() []Event
	UniqueKeys() []UniqueKey
	Apply(RecordedEvent)
}
