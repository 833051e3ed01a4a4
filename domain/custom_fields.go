package domain

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Custom field types.
const (
	CustomText   = "text"
	CustomNumber = "number"
	CustomDate   = "date"
	CustomChoice = "choice"
)

// CustomFieldDefinition is one tenant-defined field clients can carry.
type CustomFieldDefinition struct {
	name    string
	typ     string
	options []string
}

var customFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// NewCustomFieldDefinition validates a definition. Names are lower-case
// identifiers so they work as template column headers and JSON keys.
func NewCustomFieldDefinition(name, typ string, options []string) (CustomFieldDefinition, error) {
	var errs ValidationErrors
	name = strings.TrimSpace(name)
	if !customFieldName.MatchString(name) || IsClientField(name) {
		errs.add("name", "invalid_name", "%q must be a lower-case identifier (a-z, 0-9, _) that is not a built-in field", name)
	}
	switch typ {
	case CustomText, CustomNumber, CustomDate:
		if len(options) > 0 {
			errs.add("options", "unexpected_options", "only choice fields have options")
		}
	case CustomChoice:
		if len(options) == 0 {
			errs.add("options", "required", "a choice field needs at least one option")
		}
		seen := map[string]bool{}
		for i, o := range options {
			o = strings.TrimSpace(o)
			options[i] = o
			if err := checkText("options", o); err != nil {
				errs = append(errs, *err)
			} else if o == "" || seen[strings.ToLower(o)] {
				errs.add("options", "invalid_option", "option %d is empty or repeated", i+1)
			}
			seen[strings.ToLower(o)] = true
		}
	default:
		errs.add("type", "invalid_type", "%q is not a field type: use text, number, date or choice", typ)
	}
	if err := errs.orNil(); err != nil {
		return CustomFieldDefinition{}, err
	}
	return CustomFieldDefinition{name: name, typ: typ, options: slices.Clone(options)}, nil
}

func (d CustomFieldDefinition) Name() string      { return d.name }
func (d CustomFieldDefinition) Type() string      { return d.typ }
func (d CustomFieldDefinition) Options() []string { return slices.Clone(d.options) }

// normalize checks a value against the definition and returns its canonical
// form: numbers with a dot, dates as YYYY-MM-DD, choices as defined.
func (d CustomFieldDefinition) normalize(raw string) (string, *FieldError) {
	field := "custom_fields." + d.name
	v := strings.TrimSpace(raw)
	if err := checkText(field, v); err != nil {
		return "", err
	}
	if v == "" {
		return "", nil
	}
	switch d.typ {
	case CustomNumber:
		n := strings.ReplaceAll(strings.ReplaceAll(v, " ", ""), ",", ".")
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return "", &FieldError{field, "invalid_number", "\"" + v + "\" is not a number"}
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case CustomDate:
		for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006", "02.01.2006", "02-01-2006"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.Format("2006-01-02"), nil
			}
		}
		return "", &FieldError{field, "invalid_date", "\"" + v + "\" is not a date (use YYYY-MM-DD or DD/MM/YYYY)"}
	case CustomChoice:
		for _, o := range d.options {
			if strings.EqualFold(o, v) {
				return o, nil
			}
		}
		return "", &FieldError{field, "invalid_choice", "\"" + v + "\" is not one of: " + strings.Join(d.options, ", ")}
	}
	return v, nil
}

// CustomFieldSet is a tenant's custom field definitions, folded from its
// custom-fields stream.
type CustomFieldSet struct {
	tenantID uuid.UUID
	version  int
	defs     map[string]CustomFieldDefinition
	pending  []Event
}

// NewCustomFieldSet starts an empty set; Apply folds the stream into it.
func NewCustomFieldSet(tenantID uuid.UUID) *CustomFieldSet {
	return &CustomFieldSet{tenantID: tenantID, defs: map[string]CustomFieldDefinition{}}
}

func (s *CustomFieldSet) StreamID() uuid.UUID { return s.tenantID }
func (s *CustomFieldSet) StreamType() string  { return StreamCustomFields }
func (s *CustomFieldSet) Version() int        { return s.version }
func (s *CustomFieldSet) PendingEvents() []Event {
	return s.pending
}

// UniqueKeys: names are unique within the stream itself, nothing to reserve.
func (s *CustomFieldSet) UniqueKeys() []UniqueKey { return nil }

// Lookup returns the definition of a field by name.
func (s *CustomFieldSet) Lookup(name string) (CustomFieldDefinition, bool) {
	d, ok := s.defs[name]
	return d, ok
}

// Definitions lists all definitions in name order.
func (s *CustomFieldSet) Definitions() []CustomFieldDefinition {
	out := make([]CustomFieldDefinition, 0, len(s.defs))
	for _, d := range s.defs {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b CustomFieldDefinition) int { return strings.Compare(a.name, b.name) })
	return out
}

// Define adds a definition; names are unique per tenant.
func (s *CustomFieldSet) Define(d CustomFieldDefinition) error {
	if _, ok := s.defs[d.name]; ok {
		return &DuplicateError{Field: "name"}
	}
	s.record(CustomFieldDefined{Name: d.name, Type: d.typ, Options: d.options})
	return nil
}

func (s *CustomFieldSet) record(e Event) {
	s.when(e)
	s.pending = append(s.pending, e)
}

// Apply folds one recorded event into the set.
func (s *CustomFieldSet) Apply(e RecordedEvent) {
	s.when(e.Event)
	s.version = e.StreamVersion
}

func (s *CustomFieldSet) when(e Event) {
	if d, ok := e.(CustomFieldDefined); ok {
		s.defs[d.Name] = CustomFieldDefinition{name: d.Name, typ: d.Type, options: d.Options}
	}
}

// normalizeValues checks a set of custom values against the definitions.
func (s *CustomFieldSet) normalizeValues(values map[string]string) (map[string]string, ValidationErrors) {
	var errs ValidationErrors
	out := make(map[string]string, len(values))
	for name, raw := range values {
		def, ok := s.defs[name]
		if !ok {
			errs.add("custom_fields."+name, "unknown_custom_field", "%q is not a custom field of this registry; define it first", name)
			continue
		}
		v, err := def.normalize(raw)
		if err != nil {
			errs = append(errs, *err)
			continue
		}
		out[name] = v
	}
	slices.SortFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out, errs
}
