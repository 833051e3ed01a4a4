package domain

import (
	"slices"
	"strings"

	"github.com/google/uuid"
)

// ClientErasure folds a client's stream for its erasure: the client itself,
// plus every personal value it ever held, which is what copies kept beside
// the log (uploaded files, analysis reports) may quote.
type ClientErasure struct {
	*Client
	values map[string]bool
}

// NewClientErasure returns an empty erasure to fold a client's stream into.
func NewClientErasure(id uuid.UUID) *ClientErasure {
	return &ClientErasure{Client: NewClient(id), values: map[string]bool{}}
}

// Apply folds one event, keeping the personal values it carries.
func (e *ClientErasure) Apply(ev RecordedEvent) {
	switch x := ev.Event.(type) {
	case ClientRegistered:
		e.keepDetails(x.Details)
		e.keep(x.CustomFields)
	case ClientDetailsChanged:
		e.keepDetails(x.Changes)
		e.keep(x.CustomFields)
	case ContactPersonAdded:
		e.keep(x.Details)
	case ContactPersonChanged:
		e.keep(x.Changes)
	}
	e.Client.Apply(ev)
}

// keepDetails skips the fields whose values are codes shared by many
// clients (kind, language, country): matching them would flag every file.
func (e *ClientErasure) keepDetails(details map[Field]string) {
	for f, v := range details {
		if f != FieldKind && f != FieldLanguage && f != FieldCountry {
			e.add(v)
		}
	}
}

func (e *ClientErasure) keep(values map[string]string) {
	for _, v := range values {
		e.add(v)
	}
}

func (e *ClientErasure) add(v string) {
	// One- and two-letter values (a box "A", initials) say nothing about
	// who the client is and are in every file.
	if v = personalKey(v); len([]rune(v)) > 2 {
		e.values[v] = true
	}
}

// PersonalValues lists the values, in the form Mentions compares.
func (e *ClientErasure) PersonalValues() []string {
	out := make([]string, 0, len(e.values))
	for v := range e.values {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Mentions tells whether a cell holds one of the client's personal values.
func (e *ClientErasure) Mentions(cell string) bool {
	return e.values[personalKey(cell)]
}

func personalKey(v string) string {
	return strings.ToLower(strings.TrimSpace(v))
}
