package domain

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// ExternalRef ties a client to its record in another system.
type ExternalRef struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,62}$`)

// ClientInput is what a person or a file says about a client, before
// validation. In a change, absent keys are left alone.
type ClientInput struct {
	Details      map[Field]string
	CustomFields map[string]string
	ExternalRefs []ExternalRef
}

// UniqueKey is a value only one live stream of a tenant may hold.
type UniqueKey struct {
	Kind  string // reservation namespace: "email", "external_ref", "list_name"
	Value string // canonical value; hashed before it is stored
	Field string // the field to name when it is taken
}

// Client is the aggregate behind one client's stream.
type Client struct {
	id       uuid.UUID
	version  int
	deleted  bool
	erased   bool
	details  map[Field]string
	custom   map[string]string
	refs     []ExternalRef
	contacts []contactPerson
	lists    []uuid.UUID
	src      sourceState // syncs and app access (sync.go)
	history  listHistory // what a list's deletion asks (list_deletion.go)
	pending  []Event
}

type contactPerson struct {
	id      uuid.UUID
	details map[string]string
}

// NewClient returns an empty client to fold a stream into.
func NewClient(id uuid.UUID) *Client {
	return &Client{id: id, details: map[Field]string{}, custom: map[string]string{}}
}

// RegisterClient validates a new client and records ClientRegistered.
func RegisterClient(id uuid.UUID, in ClientInput, fields *CustomFieldSet) (*Client, error) {
	details, errs := normalizeDetails(in.Details)
	if details[FieldKind] == "" {
		details[FieldKind] = KindPerson
	}
	for _, missing := range append(requiredFields(details), personNames(details)...) {
		// An invalid value is reported as such, not also as missing.
		if !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == missing.Field }) {
			errs = append(errs, missing)
		}
	}
	custom, customErrs := fields.normalizeValues(in.CustomFields)
	errs = append(errs, customErrs...)
	refs, refErrs := normalizeRefs(in.ExternalRefs)
	errs = append(errs, refErrs...)
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	dropEmpty(details)
	dropEmpty(custom)

	c := NewClient(id)
	c.record(ClientRegistered{Details: details, CustomFields: emptyAsNil(custom), ExternalRefs: refs})
	return c, nil
}

// ChangeDetails applies the given fields; only values that differ from the
// current ones are recorded. A change that changes nothing records nothing.
func (c *Client) ChangeDetails(in ClientInput, fields *CustomFieldSet) error {
	if c.deleted {
		return ErrClientDeleted
	}
	patch, errs := normalizeDetails(in.Details)
	custom, customErrs := fields.normalizeValues(in.CustomFields)
	errs = append(errs, customErrs...)
	if len(in.ExternalRefs) > 0 {
		errs.add("external_refs", "read_only", "external references are set by imports and syncs, not edited")
	}
	if err := errs.orNil(); err != nil {
		return err
	}

	merged := maps.Clone(c.details)
	changes := map[Field]string{}
	for f, v := range patch {
		if c.details[f] != v {
			changes[f] = v
			merged[f] = v
		}
	}
	if err := requiredFields(merged).orNil(); err != nil {
		return err
	}
	customChanges := map[string]string{}
	for name, v := range custom {
		if c.custom[name] != v {
			customChanges[name] = v
		}
	}
	if len(changes) == 0 && len(customChanges) == 0 {
		return nil
	}
	c.record(ClientDetailsChanged{Changes: emptyAsNil(changes), CustomFields: emptyAsNil(customChanges)})
	return nil
}

// Delete removes the client from the active registry, releasing its email.
// A client its ERP manages is deleted at the ERP, not here.
func (c *Client) Delete(reason string) error {
	if c.deleted {
		return ErrClientDeleted
	}
	if source := c.ManagedBy(); source != "" {
		return &ManagedBySourceError{Source: source}
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason); err != nil {
		return ValidationErrors{*err}
	}
	c.record(ClientDeleted{Cause: DeletedByHand, Reason: reason})
	return nil
}

// Erase forgets the client's personal data. The client stays in the log as
// erased; nothing can be done with it afterwards. The repository deletes
// its data key with the event.
func (c *Client) Erase(reason string) error {
	if c.erased {
		return ErrPersonalDataErased
	}
	reason = strings.TrimSpace(reason)
	var errs ValidationErrors
	if reason == "" {
		errs.add("reason", "required", "say why the data is erased (for example the request's reference); no personal data")
	} else if err := checkText("reason", reason); err != nil {
		errs = append(errs, *err)
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	c.record(ClientErased{Reason: reason})
	return nil
}

// Restore brings a deleted client back; it must take its email back too,
// which the repository checks against the reservations.
func (c *Client) Restore() error {
	if !c.deleted {
		return ErrClientNotDeleted
	}
	c.record(ClientRestored{})
	return nil
}

// AddContactPerson attaches a new contact person.
func (c *Client) AddContactPerson(contactID uuid.UUID, details map[string]string) error {
	if c.deleted {
		return ErrClientDeleted
	}
	d, errs := normalizeContact(details)
	if d["first_name"] == "" && d["last_name"] == "" {
		errs.add("last_name", "required", "a contact person needs a first or last name")
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	dropEmpty(d)
	c.record(ContactPersonAdded{ContactID: contactID, Details: d})
	return nil
}

// AddImportedContact adds a contact person from an import file unless the
// client already has the same person (same email, or same name without
// email), so importing a file twice does not double its contacts.
func (c *Client) AddImportedContact(contactID uuid.UUID, details map[string]string) error {
	for _, p := range c.contacts {
		sameEmail := details["email"] != "" && EmailKey(p.details["email"]) == EmailKey(details["email"])
		sameName := details["email"] == "" && strings.EqualFold(p.details["first_name"], details["first_name"]) &&
			strings.EqualFold(p.details["last_name"], details["last_name"])
		if sameEmail || sameName {
			return nil
		}
	}
	return c.AddContactPerson(contactID, details)
}

// ChangeContactPerson records the contact fields that differ.
func (c *Client) ChangeContactPerson(contactID uuid.UUID, details map[string]string) error {
	if c.deleted {
		return ErrClientDeleted
	}
	i := c.contactIndex(contactID)
	if i < 0 {
		return ErrContactNotFound
	}
	d, errs := normalizeContact(details)
	if err := errs.orNil(); err != nil {
		return err
	}
	changes := map[string]string{}
	merged := maps.Clone(c.contacts[i].details)
	for k, v := range d {
		if c.contacts[i].details[k] != v {
			changes[k] = v
			merged[k] = v
		}
	}
	if merged["first_name"] == "" && merged["last_name"] == "" {
		return ValidationErrors{{Field: "last_name", Code: "required", Message: "a contact person needs a first or last name"}}
	}
	if len(changes) == 0 {
		return nil
	}
	c.record(ContactPersonChanged{ContactID: contactID, Changes: changes})
	return nil
}

// RemoveContactPerson detaches a contact person.
func (c *Client) RemoveContactPerson(contactID uuid.UUID) error {
	if c.deleted {
		return ErrClientDeleted
	}
	if c.contactIndex(contactID) < 0 {
		return ErrContactNotFound
	}
	c.record(ContactPersonRemoved{ContactID: contactID})
	return nil
}

// AddToList puts the client on a list; already being on it is not an error.
func (c *Client) AddToList(list *List) error {
	if c.deleted {
		return ErrClientDeleted
	}
	if list.deleted {
		return ErrListDeleted
	}
	if slices.Contains(c.lists, list.id) {
		return nil
	}
	c.record(ClientAddedToList{ListID: list.id})
	return nil
}

// RemoveFromList takes the client off a list; not being on it is not an
// error, so the request can be retried safely.
func (c *Client) RemoveFromList(listID uuid.UUID) error {
	if !slices.Contains(c.lists, listID) {
		return nil
	}
	c.record(ClientRemovedFromList{ListID: listID})
	return nil
}

// Accessors.
func (c *Client) ID() uuid.UUID                   { return c.id }
func (c *Client) Version() int                    { return c.version }
func (c *Client) StreamID() uuid.UUID             { return c.id }
func (c *Client) StreamType() string              { return StreamClient }
func (c *Client) Deleted() bool                   { return c.deleted }
func (c *Client) Erased() bool                    { return c.erased }
func (c *Client) Detail(f Field) string           { return c.details[f] }
func (c *Client) Details() map[Field]string       { return maps.Clone(c.details) }
func (c *Client) CustomFields() map[string]string { return maps.Clone(c.custom) }
func (c *Client) ExternalRefs() []ExternalRef     { return slices.Clone(c.refs) }
func (c *Client) Lists() []uuid.UUID              { return slices.Clone(c.lists) }
func (c *Client) PendingEvents() []Event          { return c.pending }

// ContactIDs lists the client's contact persons in the order they were added.
func (c *Client) ContactIDs() []uuid.UUID {
	ids := make([]uuid.UUID, len(c.contacts))
	for i, p := range c.contacts {
		ids[i] = p.id
	}
	return ids
}

// Contacts returns the client's contact persons, in the order they were
// added, each as its fields.
func (c *Client) Contacts() []ContactPerson {
	out := make([]ContactPerson, len(c.contacts))
	for i, p := range c.contacts {
		out[i] = ContactPerson{ID: p.id, Details: maps.Clone(p.details)}
	}
	return out
}

// ContactPerson is a contact person as read from a client.
type ContactPerson struct {
	ID      uuid.UUID
	Details map[string]string
}

// UniqueKeys are the values this client holds exclusively in its tenant. A
// deleted or erased client holds none, so its email is free for someone else.
func (c *Client) UniqueKeys() []UniqueKey {
	if c.deleted || c.erased || c.version == 0 && len(c.pending) == 0 {
		return nil
	}
	email := EmailLookupKey(EmailKey(c.details[FieldEmail]))
	email.Field = string(FieldEmail)
	keys := []UniqueKey{email}
	for _, r := range c.refs {
		ref := RefKey(r)
		ref.Field = "external_refs"
		keys = append(keys, ref)
	}
	return keys
}

// EmailLookupKey is the unique key of an email already in EmailKey form,
// without a field name: what a lookup by value needs.
func EmailLookupKey(emailKey string) UniqueKey {
	return UniqueKey{Kind: "email", Value: emailKey}
}

// RefKey is the unique key of an external reference, without a field name.
func RefKey(r ExternalRef) UniqueKey {
	return UniqueKey{Kind: "external_ref", Value: r.Source + "\x00" + r.ExternalID}
}

// Apply folds a recorded event into the client.
func (c *Client) Apply(e RecordedEvent) {
	c.when(e.Event)
	c.src.appWhen(e)
	c.version = e.StreamVersion
	c.history.apply(e)
}

func (c *Client) record(e Event) {
	c.when(e)
	c.pending = append(c.pending, e)
}

func (c *Client) when(e Event) {
	switch e := e.(type) {
	case ClientRegistered:
		c.details = maps.Clone(e.Details)
		if c.details == nil {
			c.details = map[Field]string{}
		}
		c.custom = maps.Clone(e.CustomFields)
		if c.custom == nil {
			c.custom = map[string]string{}
		}
		c.refs = slices.Clone(e.ExternalRefs)
	case ClientDetailsChanged:
		applyChanges(c.details, e.Changes)
		applyChanges(c.custom, e.CustomFields)
	case ClientDeleted:
		c.deleted = true
	case ClientRestored:
		c.deleted = false
	case ClientErased:
		c.erased = true
		c.details = map[Field]string{FieldKind: c.details[FieldKind]}
		c.custom = map[string]string{}
		c.contacts = nil
		c.lists = nil
	case ContactPersonAdded:
		c.contacts = append(c.contacts, contactPerson{id: e.ContactID, details: maps.Clone(e.Details)})
	case ContactPersonChanged:
		if i := c.contactIndex(e.ContactID); i >= 0 {
			applyChanges(c.contacts[i].details, e.Changes)
		}
	case ContactPersonRemoved:
		if i := c.contactIndex(e.ContactID); i >= 0 {
			c.contacts = slices.Delete(c.contacts, i, i+1)
		}
	case ClientAddedToList:
		c.lists = append(c.lists, e.ListID)
	case ClientRemovedFromList:
		c.lists = slices.DeleteFunc(c.lists, func(id uuid.UUID) bool { return id == e.ListID })
	default:
		c.whenSource(e)
	}
}

func (c *Client) contactIndex(id uuid.UUID) int {
	return slices.IndexFunc(c.contacts, func(p contactPerson) bool { return p.id == id })
}

// applyChanges sets new values and drops cleared ones.
func applyChanges[K comparable](into map[K]string, changes map[K]string) {
	for k, v := range changes {
		if v == "" {
			delete(into, k)
		} else {
			into[k] = v
		}
	}
}

func normalizeDetails(in map[Field]string) (map[Field]string, ValidationErrors) {
	var errs ValidationErrors
	out := make(map[Field]string, len(in))
	for _, f := range ClientFields {
		raw, ok := in[f]
		if !ok {
			continue
		}
		v, err := normalizeField(f, raw)
		if err != nil {
			errs = append(errs, *err)
			continue
		}
		out[f] = v
	}
	for f := range in {
		if !IsClientField(string(f)) {
			errs.add(string(f), "unknown_field", "%q is not a client field", string(f))
		}
	}
	return out, errs
}

// requiredFields is what every client holds: an email, a kind, and for a
// company its name. Persons may lack names (an imported newsletter list of
// emails and languages); a person registered by hand must give them.
func requiredFields(d map[Field]string) ValidationErrors {
	var errs ValidationErrors
	need(&errs, d, FieldKind, `the kind ("person" or "company")`)
	need(&errs, d, FieldEmail, "an email address")
	if d[FieldKind] == KindCompany {
		need(&errs, d, FieldCompanyName, "the company name")
	}
	return errs
}

// personNames: a person registered by hand needs a first and a last name.
func personNames(d map[Field]string) ValidationErrors {
	var errs ValidationErrors
	if d[FieldKind] != KindCompany {
		need(&errs, d, FieldFirstName, "the first name")
		need(&errs, d, FieldLastName, "the last name")
	}
	return errs
}

func need(errs *ValidationErrors, d map[Field]string, f Field, what string) {
	if d[f] == "" {
		errs.add(string(f), "required", "%s is required", what)
	}
}

var contactFields = []string{"first_name", "last_name", "email", "phone", "role"}

func normalizeContact(in map[string]string) (map[string]string, ValidationErrors) {
	var errs ValidationErrors
	out := map[string]string{}
	for k, raw := range in {
		if !slices.Contains(contactFields, k) {
			errs.add(k, "unknown_field", "%q is not a contact person field", k)
			continue
		}
		var v string
		var err *FieldError
		switch k {
		case "email":
			v, err = normalizeField(FieldEmail, raw)
		case "phone":
			v, err = normalizeField(FieldPhone, raw)
		default:
			v = strings.TrimSpace(raw)
			err = checkText(k, v)
		}
		if err != nil {
			err.Field = k
			errs = append(errs, *err)
			continue
		}
		out[k] = v
	}
	slices.SortFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out, errs
}

func normalizeRefs(refs []ExternalRef) ([]ExternalRef, ValidationErrors) {
	var errs ValidationErrors
	seen := map[string]bool{}
	out := make([]ExternalRef, 0, len(refs))
	for i, r := range refs {
		field := "external_refs[" + strconv.Itoa(i) + "]"
		r.Source = strings.ToLower(strings.TrimSpace(r.Source))
		r.ExternalID = strings.TrimSpace(r.ExternalID)
		if !sourceName.MatchString(r.Source) {
			errs.add(field+".source", "invalid_source", "%q is not a source name (lower-case letters, digits, _ . : -)", r.Source)
			continue
		}
		if err := checkText(field+".external_id", r.ExternalID); err != nil {
			errs = append(errs, *err)
			continue
		}
		if r.ExternalID == "" {
			errs.add(field+".external_id", "required", "the external id is required")
			continue
		}
		if seen[r.Source] {
			errs.add(field+".source", "duplicate_source", "a client has one external id per source")
			continue
		}
		seen[r.Source] = true
		out = append(out, r)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errs
}

func dropEmpty[K comparable](m map[K]string) {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
}

func emptyAsNil[K comparable](m map[K]string) map[K]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
