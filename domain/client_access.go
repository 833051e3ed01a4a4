package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// App access statuses of a client (the client's own app).
const (
	AccessNotInvited        = "not_invited"
	AccessInvited           = "invited"
	AccessRegistered        = "registered"
	AccessPendingValidation = "pending_validation"
	AccessValidated         = "validated"
	AccessRevoked           = "revoked"
)

// NextAccessStatus is the one rule of app access, folded by the client, the
// read model and its rebuild alike. A registration never downgrades a
// client the office already let in (registered or validated).
func NextAccessStatus(current string, e Event) string {
	switch e.(type) {
	case InvitationSent:
		if current == AccessNotInvited || current == AccessRevoked || current == "" {
			return AccessInvited
		}
	case AppUserRegistered:
		switch current {
		case AccessInvited:
			return AccessRegistered
		case AccessRegistered, AccessValidated:
			return current
		}
		return AccessPendingValidation
	case AppAccessValidated:
		return AccessValidated
	case AppAccessRevoked:
		return AccessRevoked
	case AppRegistrationRejected:
		return AccessNotInvited
	}
	return current
}

// ErrAlreadyRegistered: an invitation to a client who registered already.
var ErrAlreadyRegistered = errors.New("the client already registered in the app")

// ErrNoPendingRegistration: only a registration waiting for the office can
// be rejected.
var ErrNoPendingRegistration = errors.New("the client has no registration waiting for validation")

// AppAccessRevoked: the office took the client's app access back.
type AppAccessRevoked struct{}

// AppRegistrationRejected: the office refused a registration that waited
// for its validation (not the client, or not wanted).
type AppRegistrationRejected struct{}

func (AppAccessRevoked) EventName() string         { return "AppAccessRevoked" }
func (AppRegistrationRejected) EventName() string  { return "AppRegistrationRejected" }
func (AppAccessRevoked) SchemaVersion() int        { return 1 }
func (AppRegistrationRejected) SchemaVersion() int { return 1 }

// AppAccessView is the client's app access as the office sees it.
type AppAccessView struct {
	Status       string     `json:"access_status"`
	Device       string     `json:"device,omitempty"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
	ValidatedAt  *time.Time `json:"validated_at,omitempty"`
	Invitations  int        `json:"invitations_sent"`
	LastInvited  *time.Time `json:"last_invited_at,omitempty"`
}

// appWhen keeps when the app events happened.
func (s *sourceState) appWhen(e RecordedEvent) {
	at := e.OccurredAt
	switch ev := e.Event.(type) {
	case InvitationSent:
		s.app.Invitations++
		s.app.LastInvited = &at
	case AppUserRegistered:
		s.app.RegisteredAt, s.app.Device = &at, ev.Device // the latest registration
	case AppAccessValidated:
		s.app.ValidatedAt = &at
	case AppRegistrationRejected, AppAccessRevoked:
		s.app.RegisteredAt, s.app.ValidatedAt, s.app.Device = nil, nil, ""
	}
}

// AppView is the client's app access with its dates.
func (c *Client) AppView() AppAccessView {
	v := c.src.app
	v.Status = c.AccessStatus()
	return v
}

// RevokeAccess takes the client's app access back.
func (c *Client) RevokeAccess() error {
	if c.deleted {
		return ErrClientDeleted
	}
	switch c.AccessStatus() {
	case AccessRevoked:
		return nil
	case AccessRegistered, AccessPendingValidation, AccessValidated:
		c.record(AppAccessRevoked{})
		return nil
	}
	return ErrNoAppRegistration
}

// RejectRegistration refuses the registration waiting for validation.
func (c *Client) RejectRegistration() error {
	if c.deleted {
		return ErrClientDeleted
	}
	if c.AccessStatus() != AccessPendingValidation {
		return ErrNoPendingRegistration
	}
	c.record(AppRegistrationRejected{})
	return nil
}

// ErrNoAppRegistration: validating access needs the client to have
// registered in the app first.
var ErrNoAppRegistration = errors.New("the client has not registered in the app")

// InvitationSent: the office invited the client to its app. The message
// itself leaves through the event feed.
type InvitationSent struct {
	Email string `json:"email"`
}

// AppUserRegistered: a user of the app registered with the client's email
// and was linked to the client.
type AppUserRegistered struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Email          string    `json:"email"`
	Device         string    `json:"device,omitempty"`
}

// AppAccessValidated: the office confirmed the app user is the client.
type AppAccessValidated struct{}

func (InvitationSent) EventName() string     { return "InvitationSent" }
func (AppUserRegistered) EventName() string  { return "AppUserRegistered" }
func (AppAccessValidated) EventName() string { return "AppAccessValidated" }

func (InvitationSent) SchemaVersion() int     { return 1 }
func (AppUserRegistered) SchemaVersion() int  { return 1 }
func (AppAccessValidated) SchemaVersion() int { return 1 }

// An email and a device name identify a person: sealed.
func (InvitationSent) PersonalFields() []string    { return []string{"email"} }
func (AppUserRegistered) PersonalFields() []string { return []string{"email", "device"} }

func init() {
	registerEvent(func() Event { return &InvitationSent{} })
	registerEvent(func() Event { return &AppUserRegistered{} })
	registerEvent(func() Event { return &AppAccessValidated{} })
	registerEvent(func() Event { return &AppAccessRevoked{} })
	registerEvent(func() Event { return &AppRegistrationRejected{} })
}

// AccessStatus is the client's app access status.
func (c *Client) AccessStatus() string {
	if c.src.access == "" {
		return AccessNotInvited
	}
	return c.src.access
}

// Invite records an invitation to the client's email. Inviting again
// (a reminder) is allowed until the client has registered.
func (c *Client) Invite() error {
	if c.deleted {
		return ErrClientDeleted
	}
	switch c.AccessStatus() {
	case AccessNotInvited, AccessInvited, AccessRevoked:
		c.record(InvitationSent{Email: c.details[FieldEmail]})
		return nil
	}
	return fmt.Errorf("%w (%s): there is no invitation to send again", ErrAlreadyRegistered, strings.ReplaceAll(c.AccessStatus(), "_", " "))
}

// RegisterAppUser links an app user who registered with the client's
// email. An invited client is registered; one that was never invited waits
// for the office's validation. The same registration again changes nothing.
func (c *Client) RegisterAppUser(registrationID uuid.UUID, email, device string) error {
	if c.deleted {
		return ErrClientDeleted
	}
	device, err := AppDevice(device)
	if err != nil {
		return err
	}
	switch c.AccessStatus() {
	case AccessRegistered, AccessPendingValidation, AccessValidated:
		if EmailKey(c.src.appEmail) == EmailKey(email) {
			return nil
		}
	}
	// Registered or validated with another email: recorded, never a
	// downgrade (NextAccessStatus).
	c.record(AppUserRegistered{RegistrationID: registrationID, Email: email, Device: device})
	return nil
}

// ValidateAccess is the office confirming the app user by hand.
func (c *Client) ValidateAccess() error {
	if c.deleted {
		return ErrClientDeleted
	}
	switch c.AccessStatus() {
	case AccessValidated:
		return nil
	case AccessRegistered, AccessPendingValidation:
		c.record(AppAccessValidated{})
		return nil
	}
	return ErrNoAppRegistration
}

// AppDevice checks the device an app user registered from (a name the app
// sends, like "iPhone de Marie").
func AppDevice(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if err := checkText("device", v); err != nil {
		return "", ValidationErrors{*err}
	}
	return v, nil
}

// AppEmail checks the email an app user registered with.
func AppEmail(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", ValidationErrors{{Field: "email", Code: "required", Message: "an email address is required"}}
	}
	v, err := normalizeEmail("email", v)
	if err != nil {
		return "", ValidationErrors{*err}
	}
	return v, nil
}
