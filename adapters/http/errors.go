package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// apiError is the one error shape of the API.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// sentinelErrors is the one table of the errors the API names: each
// sentinel, wherever it was wrapped, answers with its status and code.
var sentinelErrors = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{domain.ErrClientNotFound, http.StatusNotFound, "client_not_found", "no such client"},
	{domain.ErrListNotFound, http.StatusNotFound, "list_not_found", "no such list"},
	{domain.ErrContactNotFound, http.StatusNotFound, "contact_person_not_found", "no such contact person"},
	{domain.ErrClientDeleted, http.StatusConflict, "client_deleted", "the client is deleted; restore it first"},
	{domain.ErrNotManagedBySource, http.StatusConflict, "not_managed_by_source", "this client is not managed by a source; there is nothing to detach"},
	{domain.ErrClientNotDeleted, http.StatusConflict, "client_not_deleted", "the client is not deleted"},
	{domain.ErrPersonalDataErased, http.StatusGone, "personal_data_erased", "this client's personal data was erased; it cannot take new data"},
	{context.Canceled, 499, "request_canceled", "the request was canceled"},
	{domain.ErrListDeleted, http.StatusConflict, "list_deleted", "the list is deleted"},
	{domain.ErrListNotDeleted, http.StatusConflict, "list_not_deleted", "the list is not deleted"},
	{domain.ErrListRestoredBefore, http.StatusConflict, "list_restored_before", "the list's deletion was already undone once"},
	{domain.ErrImportNotFound, http.StatusNotFound, "import_not_found", "no such import"},
	{domain.ErrImportAlreadyExecuted, http.StatusConflict, "import_already_executed", "this import was already executed; analyse the file again to import it once more"},
	{domain.ErrImportRunning, http.StatusConflict, "import_running", "this import is running; wait for it to finish"},
	{domain.ErrImportNotExecuted, http.StatusConflict, "import_not_executed", "this import was not executed, so there is nothing to undo"},
	{domain.ErrImportFileErased, http.StatusGone, "import_file_erased", "the uploaded file was removed because it held personal data of an erased client"},
	{domain.ErrImportHasNoFile, http.StatusConflict, "no_file", "this file was refused and not kept: upload it again"},
	{domain.ErrImportAlreadyUndone, http.StatusConflict, "import_already_undone", "this import was already undone"},
	{commands.ErrProviderNotConfigured, http.StatusUnprocessableEntity, "provider_not_configured", "this provider is not configured on this server"},
	{domain.ErrConnectionNotFound, http.StatusNotFound, "connection_not_found", "no such connection"},
	{domain.ErrConnectionRevoked, http.StatusConflict, "connection_revoked", "the connection is revoked; connect the source again"},
	{domain.ErrConnectionNotActive, http.StatusConflict, "connection_not_authorized", "the connection waits for the provider's consent"},
	{domain.ErrConnectionExists, http.StatusConflict, "connection_exists", "this provider is already connected; revoke that connection first"},
	{domain.ErrSyncAlreadyRunning, http.StatusConflict, "sync_running", "a sync of this connection is running"},
	{domain.ErrNotPulled, http.StatusConflict, "not_pulled", "this source pushes its clients; it is not synced from here"},
	{domain.ErrInvalidOAuthState, http.StatusBadRequest, "invalid_oauth_state", "this authorization link is unknown, used or expired; start the connection again"},
	{domain.ErrNoAppRegistration, http.StatusConflict, "no_app_registration", "the client has not registered in the app yet"},
	{domain.ErrAlreadyRegistered, http.StatusConflict, "already_registered", "the client already registered in the app: there is no invitation to send again"},
	{domain.ErrNoPendingRegistration, http.StatusConflict, "no_pending_registration", "the client has no registration waiting for validation"},
	{commands.ErrRegistrationNotFound, http.StatusNotFound, "registration_not_found", "no pending app registration with this id"},
	{domain.ErrInvalidToken, http.StatusUnauthorized, "unauthorized", "the API token is invalid or revoked"},
	{domain.ErrTokenNotFound, http.StatusNotFound, "token_not_found", "no such API token"},
	{domain.ErrInvalidRole, http.StatusUnprocessableEntity, "invalid_role", "role must be admin, editor, viewer or app"},
	{projections.ErrInvalidCursor, http.StatusBadRequest, "invalid_cursor", "the cursor is not one this API returned"},
	{projections.ErrNoSuchPosition, http.StatusBadRequest, "invalid_min_position", "there is no event at min_position"},
	{projections.ErrPositionNotReached, http.StatusServiceUnavailable, "position_not_reached", "the read models have not caught up with min_position yet; retry shortly"},
	{commands.ErrIdempotencyKeyReused, http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request"},
	{commands.ErrIdempotencyInProgress, http.StatusConflict, "idempotency_in_progress", "a request with this Idempotency-Key is still running"},
}

// toAPIError is the one place that maps errors to HTTP statuses: the
// errors that carry details first, then the table of sentinels.
func toAPIError(err error) *apiError {
	var (
		api  *apiError
		verr domain.ValidationErrors
		conf *domain.ConflictError
		dup  *domain.DuplicateError
		src  *commands.SourceError
		own  *domain.ManagedBySourceError
		text *domain.TextError
	)
	switch {
	case errors.As(err, &api):
		return api
	case errors.As(err, &text):
		return &apiError{http.StatusBadRequest, "invalid_parameter", text.Error(), domain.ValidationErrors{text.FieldError}}
	case errors.As(err, &verr):
		return &apiError{http.StatusUnprocessableEntity, "validation_failed", verr.Error(), verr}
	case errors.As(err, &conf):
		return &apiError{http.StatusConflict, "version_conflict",
			"the resource changed since you read it; reload and apply your change again",
			map[string]int{"current_version": conf.CurrentVersion}}
	case errors.As(err, &dup):
		details := map[string]string{"field": dup.Field}
		if dup.OwnerID != "" {
			details["existing_id"] = dup.OwnerID
		}
		return &apiError{http.StatusConflict, "duplicate", dup.Field + " is already used by another record", details}
	case errors.As(err, &own):
		return &apiError{http.StatusConflict, "managed_by_source",
			"this client is managed by its source (" + own.Source + "): delete it there; an admin can detach it to manage it here",
			map[string]string{"source": own.Source}}
	case errors.As(err, &src):
		return newError(http.StatusUnprocessableEntity, "source_refused", src.Message)
	case errors.Is(err, domain.ErrUnauthenticatedPush):
		return newError(http.StatusUnauthorized, "push_unauthenticated", "signature, timestamp or replay check failed: "+pushFailure(err))
	}
	for _, s := range sentinelErrors {
		if errors.Is(err, s.err) {
			return newError(s.status, s.code, s.message)
		}
	}
	return newError(http.StatusInternalServerError, "internal", "something went wrong on our side")
}

// pushFailure is what failed in a push's authentication (no secret in it).
func pushFailure(err error) string {
	return strings.TrimPrefix(err.Error(), domain.ErrUnauthenticatedPush.Error()+": ")
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	api := toAPIError(err)
	if api.Status >= 500 {
		if failure, ok := r.Context().Value(failureKey).(*error); ok {
			*failure = err
		}
	}
	if api.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="clientreg"`)
	}
	writeJSON(w, api.Status, map[string]*apiError{"error": api})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
