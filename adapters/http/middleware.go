package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	failureKey // *error: the cause of a 5xx, for the request log
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

func principalFrom(ctx context.Context) domain.Principal {
	p, _ := ctx.Value(principalKey).(domain.Principal)
	return p
}

// origin is who the command runs for, as its events will record it.
func origin(r *http.Request) domain.Origin {
	p := principalFrom(r.Context())
	reqID, _ := r.Context().Value(requestIDKey).(string)
	correlation := r.Header.Get("X-Correlation-ID")
	if correlation == "" || len(correlation) > 100 {
		correlation = reqID
	}
	return domain.Origin{TenantID: p.TenantID, Actor: "token:" + p.TokenID.String(), CorrelationID: correlation, CausationID: reqID}
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return rc.RoutePattern()
	}
	return "unmatched"
}

// requestLog logs one line per request: route pattern, never the query
// string, which may hold names or emails. A 5xx is logged at error level
// with its cause.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := uuid.NewString()
		w.Header().Set("X-Request-ID", reqID)
		var failure error
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, reqID), failureKey, &failure)
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		if s.metrics != nil {
			s.metrics.ObserveRequest(routePattern(r), r.Method, rec.status, took)
		}
		attrs := []any{"method", r.Method, "route", routePattern(r), "status", rec.status,
			"duration_ms", took.Milliseconds(), "request_id", reqID}
		if failure != nil {
			s.logger.ErrorContext(ctx, "request failed", append(attrs, "error", failure)...)
			return
		}
		s.logger.InfoContext(ctx, "request", attrs...)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	body   *bytes.Buffer
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.body != nil {
		s.body.Write(b)
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// authenticate resolves the bearer token; no or a bad token is 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			writeError(w, r, newError(http.StatusUnauthorized, "unauthorized", "send an API token as Authorization: Bearer <token>"))
			return
		}
		p, err := s.tenants.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// requireRole lets through principals with at least the given role.
func requireRole(role string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !principalFrom(r.Context()).Can(role) {
				writeError(w, r, newError(http.StatusForbidden, "forbidden", "this needs the "+role+" role"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody refuses bodies over MaxBodyBytes (413 when decoding).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// idempotent makes a command with an Idempotency-Key run at most once per
// (tenant, key): a retry with the same request gets the first answer back.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method == http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key is longer than 255 characters"))
			return
		}
		body, err := readBody(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n" + r.Header.Get("If-Match") + "\n"))
		h.Write(body)
		tenant := principalFrom(r.Context()).TenantID
		claim, stored, err := s.idempotency.Claim(r.Context(), tenant, key, h.Sum(nil))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if stored != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			if stored.ETag != "" {
				w.Header().Set("ETag", stored.ETag)
			}
			if stored.Location != "" {
				w.Header().Set("Location", stored.Location)
			}
			w.WriteHeader(stored.Status)
			_, _ = w.Write(stored.Body)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, body: &bytes.Buffer{}}
		next.ServeHTTP(rec, r)
		ctx := context.WithoutCancel(r.Context())
		// Only a success is replayed. A refused command changed nothing,
		// so the key is freed and the corrected request may reuse it.
		if rec.status >= 300 {
			err = s.idempotency.Release(ctx, claim)
		} else {
			err = s.idempotency.Complete(ctx, claim, commands.StoredResponse{
				Status: rec.status, Body: rec.body.Bytes(),
				ETag: w.Header().Get("ETag"), Location: w.Header().Get("Location")})
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "idempotency bookkeeping failed", "error", err)
		}
	})
}

// textHeaders are the headers whose text reaches the database or the log.
var textHeaders = []string{"X-Correlation-ID", "Idempotency-Key", "Last-Event-ID"}

// checkParams refuses (400, naming it) a query parameter or a header that
// breaks the text rule: a NUL in ?q= must not reach PostgreSQL.
func checkParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, values := range r.URL.Query() {
			if err := domain.CheckParam(name, name); err != nil {
				writeError(w, r, err)
				return
			}
			for _, v := range values {
				if err := domain.CheckParam(name, v); err != nil {
					writeError(w, r, err)
					return
				}
			}
		}
		for _, h := range textHeaders {
			if err := domain.CheckParam(h, r.Header.Get(h)); err != nil {
				writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkJSONText refuses a JSON text that is not valid UTF-8 or escapes
// half of a surrogate pair (\ud800 alone): the decoder would turn either
// into U+FFFD without a word, and the user's text would be stored changed.
func checkJSONText(body []byte) error {
	if !utf8.Valid(body) {
		at := 0
		for at < len(body) {
			r, size := utf8.DecodeRune(body[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return newError(http.StatusBadRequest, "invalid_json", fmt.Sprintf("the body is not valid UTF-8 (byte %d)", at))
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		i++
		if i >= len(body) || body[i] != 'u' {
			continue
		}
		r, ok := hex4(body[i+1:])
		if !ok {
			continue // the decoder says what is wrong
		}
		i += 4
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00:
			if low, ok := hex4(body[min(i+3, len(body)):]); ok && i+2 < len(body) &&
				body[i+1] == '\\' && body[i+2] == 'u' && low >= 0xDC00 && low <= 0xDFFF {
				i += 6
				continue
			}
			fallthrough
		case utf16.IsSurrogate(r):
			return newError(http.StatusBadRequest, "invalid_json",
				fmt.Sprintf(`the body holds half of a UTF-16 surrogate pair (\u%04x at byte %d): it is not a character`, r, i-5))
		}
	}
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
