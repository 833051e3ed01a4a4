package domain

import (
	"encoding/json"
	"fmt"
)

// An upcaster turns the fields of one version of an event into the next
// version's. Old events stay in the log as they were written; they take the
// current shape when read, so the rest of the code knows one shape only.
type upcaster func(fields map[string]json.RawMessage) error

// upcasters maps "Name/version" to the step to version+1.
var upcasters = map[string]upcaster{}

// latestVersion maps an event name to its current version.
var latestVersion = map[string]int{}

func registerUpcaster(name string, from int, step upcaster) {
	upcasters[eventKey(name, from)] = step
}

// CurrentEvent returns an empty event of the current version for a stored
// name and version, when the stored version is current or can be upcast to
// it.
func CurrentEvent(name string, version int) (Event, bool) {
	latest, ok := latestVersion[name]
	if !ok || version > latest {
		return nil, false
	}
	for v := version; v < latest; v++ {
		if upcasters[eventKey(name, v)] == nil {
			return nil, false
		}
	}
	return NewEvent(name, latest)
}

// IsCurrentVersion reports whether events stored at this version need no
// upcasting.
func IsCurrentVersion(name string, version int) bool {
	return latestVersion[name] == version
}

// Upcast brings the fields of a stored event from its version to the
// current one. It reports whether anything had to change.
func Upcast(name string, version int, fields map[string]json.RawMessage) (bool, error) {
	latest := latestVersion[name]
	for v := version; v < latest; v++ {
		step := upcasters[eventKey(name, v)]
		if step == nil {
			return false, fmt.Errorf("no upcaster for %s v%d", name, v)
		}
		if err := step(fields); err != nil {
			return false, fmt.Errorf("upcast %s v%d: %w", name, v, err)
		}
	}
	return version < latest, nil
}

// ClientDeleted v1 kept one "reason" for two things: the note a person
// typed, and the marker "import_undone" an undo wrote. v2 splits them into
// cause and reason.
func upcastClientDeletedV1(fields map[string]json.RawMessage) error {
	var reason string
	if raw, ok := fields["reason"]; ok {
		if err := json.Unmarshal(raw, &reason); err != nil {
			return err
		}
	}
	cause := DeletedByHand
	if reason == DeletedByUndo {
		cause = DeletedByUndo
		delete(fields, "reason")
	}
	raw, err := json.Marshal(cause)
	if err != nil {
		return err
	}
	fields["cause"] = raw
	return nil
}
