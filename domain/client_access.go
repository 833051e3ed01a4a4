package domain

import (
	"errors"
	"strings"

	"github.com/google/uuid"
)

// App access statuses of a client (the client's own app).
const (
	AccessNotInvited        = "not_invited"
	AccessInvited           = "invited"
	AccessRegistered        = "registered"
	AccessPendingValidation = "pending_validation"
	AccessValidated         = "validated"
)

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
	case AccessNotInvited, AccessInvited:
		c.record(InvitationSent{Email: c.details[FieldEmail]})
	}
	return nil
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
