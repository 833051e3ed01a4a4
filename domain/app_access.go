package domain

// What the office's app is told when a person asks to come in. Only the
// office lets someone in: its invitation (then the app registration) or its
// validation of a registration it did not invite.
const (
	AppAccessGranted = "granted"
	AppAccessPending = "pending_validation"
	AppAccessNone    = "none"
)

// AppAccess answers for this client's app user. Any status this build does
// not grant (not invited, invited only, revoked, deleted) is none.
func (c *Client) AppAccess() string {
	if c.deleted || c.erased {
		return AppAccessNone
	}
	switch c.AccessStatus() {
	case AccessRegistered, AccessValidated:
		return AppAccessGranted
	case AccessPendingValidation:
		return AppAccessPending
	}
	return AppAccessNone
}
