// Package syneton reads clients from Admin IS | Consult (Syneton) as its
// public Python SDK (cornettew/adminconsult-sdk) reads them: an API key
// exchanged for a session token (header synetonToken) valid until the
// date-time TimeToLive, customers paged by Link rel="next", addresses as
// their own resource, then the customer change feed by LogId. An empty
// answer is 204 or 404 "Nothing found"; a throttled call is a 403.
package syneton

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the API's local times are Belgian: Europe/Brussels must load everywhere

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

const productName = "Admin IS | Consult"

// Settings is what GET /api/v1/apisettings says.
type Settings struct {
	DefaultRecordsPerPage int `json:"DefaultRecordsPerPage"`
	MaxRecordsPerPage     int `json:"MaxRecordsPerPage"`
	DurationToken         int `json:"DurationToken"`
	// RateLimit is the calls a minute the server accepts.
	RateLimit int `json:"RateLimit"`
}

// Client talks to one Admin IS | Consult server. Not safe for concurrent
// use: one run uses one client.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
	now     func() time.Time
	// Sleep waits (pacing, back-off); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxAttempts bounds the tries of one call (throttling, dropped connections).
	MaxAttempts int

	token       string
	tokenExpiry time.Time
	// interval spaces the calls to stay under the RateLimit; the token
	// call counts too, as the SDK counts it.
	interval time.Duration
	lastCall time.Time
}

// New builds a client; nothing is sent until the first call. hc should be
// the guarded client of outbound calls (adapters/outbound).
func New(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), apiKey: apiKey, http: hc, now: time.Now,
		Sleep: sleep, MaxAttempts: 6}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Check logs in and reads the API settings: what connecting verifies. A
// wrong key or URL is a validation error naming the field.
func (c *Client) Check(ctx context.Context) error {
	err := c.login(ctx)
	if err == nil {
		_, err = c.Settings(ctx)
	}
	var se *commands.SourceError
	if errors.As(err, &se) {
		field := "base_url"
		if errors.Is(err, domain.ErrSourceRejected) {
			field = "api_key"
		}
		return domain.ValidationErrors{{Field: field, Code: "source_refused", Message: se.Message}}
	}
	return err
}

type tokenAnswer struct {
	TokenGuid  string          `json:"TokenGuid"`
	TimeToLive json.RawMessage `json:"TimeToLive"`
}

// login exchanges the API key for a session token. The key is in the
// path, so no error here may carry the URL or the server's words.
func (c *Client) login(ctx context.Context) error {
	if err := c.pace(ctx); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/api/v1/token/"+url.PathEscape(c.apiKey), nil)
	if err != nil {
		return &commands.SourceError{Message: "the " + productName + " address is not a valid URL"}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(ctx, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusForbidden && throttled(body):
		return &commands.SourceError{Message: productName + " is throttling the calls of this API key; the next run tries again"}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		(resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest) && errorMessage(body) != "":
		return &commands.SourceError{Message: productName + " refused the API key", Err: domain.ErrSourceRejected}
	case resp.StatusCode != http.StatusOK:
		return &commands.SourceError{Message: fmt.Sprintf("%s at %s answered HTTP %d to the login; is this the address of the API?",
			productName, c.baseURL, resp.StatusCode)}
	}
	var ans tokenAnswer
	if err := json.Unmarshal(body, &ans); err != nil || ans.TokenGuid == "" {
		return &commands.SourceError{Message: fmt.Sprintf("the server at %s did not answer the login like %s does; is this the address of the API?",
			c.baseURL, productName)}
	}
	c.token = ans.TokenGuid
	c.tokenExpiry = renewAt(ans.TimeToLive, c.now())
	return nil
}

// brussels is the zone of a TimeToLive written without one.
var brussels = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Brussels"); err == nil {
		return l
	}
	return time.UTC
}()

// renewAt reads TimeToLive, the date-time until which the token is valid
// (the SDK parses it as ISO 8601), and says when to renew it: a minute
// before. A date-time without a zone is Belgian time. A value that cannot
// be read, or that is already (nearly) past, gives the token five
// minutes: the 401 of an expired token renews it anyway.
func renewAt(raw json.RawMessage, now time.Time) time.Time {
	fallback := now.Add(5 * time.Minute)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var secs float64
		if json.Unmarshal(raw, &secs) == nil && secs > 0 {
			return now.Add(time.Duration(secs*0.9) * time.Second)
		}
		return fallback
	}
	s = strings.TrimSpace(s)
	var until time.Time
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		until = t
	} else {
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.ParseInLocation(layout, s, brussels); err == nil {
				until = t
				break
			}
		}
	}
	if until.IsZero() || !until.After(now.Add(2*time.Minute)) {
		return fallback
	}
	return until.Add(-time.Minute)
}

// unreachable words a failed connection. Every failure to connect (refused,
// timed out, blocked address, bad certificate) gives the same words, so
// the answer tells nothing about what listens where.
func (c *Client) unreachable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL may hold the API key
	}
	return &commands.SourceError{Message: "could not connect to " + productName + " at " + c.baseURL +
		"; check the address (https://, the API's host) and that the server is reachable", Err: errUnreachable{cause: err}}
}

// errUnreachable keeps the cause for the server's own checks but never
// prints it: the cause would tell a refused port from a blocked address.
type errUnreachable struct{ cause error }

func (e errUnreachable) Error() string { return "unreachable" }
func (e errUnreachable) Unwrap() error { return e.cause }

// Settings reads the API settings and paces later calls to the RateLimit.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	found, _, err := c.get(ctx, "/api/v1/apisettings", &s)
	if err != nil {
		return s, err
	}
	if !found {
		return s, &commands.SourceError{Message: productName + " sent no API settings; is this the address of the API?"}
	}
	if s.RateLimit > 0 {
		// The SDK counts the calls of the last 63 seconds against the limit.
		c.interval = 63 * time.Second / time.Duration(s.RateLimit)
	}
	return s, nil
}

// pace waits until the next call keeps the run under the rate limit.
func (c *Client) pace(ctx context.Context) error {
	next := c.lastCall.Add(c.interval)
	if wait := next.Sub(c.now()); wait > 0 {
		if err := c.Sleep(ctx, wait); err != nil {
			return err
		}
		c.lastCall = next
		return nil
	}
	c.lastCall = c.now()
	return nil
}

// throttleWait is how long a throttled call waits: the server counts calls
// by the minute, so the window must pass.
const throttleWait = time.Minute

// get calls path (with its query) on the connection's own host with the
// session token. found is false when the API says there is nothing (204,
// or 404 "Nothing found"). It renews the token before it expires or once
// when refused, waits out throttling (a 403 saying so) and retries a
// dropped connection.
func (c *Client) get(ctx context.Context, path string, out any) (found bool, h http.Header, err error) {
	backoff := time.Second
	renewed := false
	var last error
	for attempt := 1; attempt <= c.MaxAttempts; attempt++ {
		if c.token == "" || !c.now().Before(c.tokenExpiry) {
			if err := c.login(ctx); err != nil {
				return false, nil, err
			}
		}
		if err := c.pace(ctx); err != nil {
			return false, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
		if err != nil {
			return false, nil, fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("synetonToken", c.token)
		req.Header.Set("Accept", "application/json")
		wait := backoff
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil, ctx.Err()
			}
			last = c.unreachable(ctx, err)
		} else {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			resp.Body.Close()
			switch st := resp.StatusCode; {
			case readErr != nil:
				last = c.unreachable(ctx, readErr) // dropped mid-answer
			case st == http.StatusNoContent:
				return false, resp.Header, nil
			case st == http.StatusNotFound && nothingFound(body):
				return false, resp.Header, nil
			case st >= 200 && st <= 203:
				if err := json.Unmarshal(body, out); err != nil {
					return false, nil, &commands.SourceError{Message: productName + " sent an answer that could not be read", Err: err}
				}
				return true, resp.Header, nil
			case st == http.StatusUnauthorized && !renewed:
				c.token, renewed = "", true // expired early: log in again once
				continue
			case st == http.StatusForbidden && throttled(body):
				last = &commands.SourceError{Message: productName + " kept throttling the calls; the next run continues where this one stopped"}
				wait = throttleWait
				if d := retryAfter(resp.Header); d > 0 {
					wait = d
				}
			case st == http.StatusForbidden:
				return false, nil, &commands.SourceError{Message: productName + " refused this API key access to " + resource(path) +
					"; check the key's rights in " + productName, Err: domain.ErrSourceRejected}
			case st >= 500 || st == http.StatusTooManyRequests:
				last = &commands.SourceError{Message: fmt.Sprintf("%s answered HTTP %d", productName, st)}
			default:
				msg := fmt.Sprintf("%s refused the request for %s (HTTP %d)", productName, resource(path), st)
				if m := errorMessage(body); m != "" {
					msg += ": " + m
				}
				return false, nil, &commands.SourceError{Message: msg, Err: domain.ErrSourceRejected}
			}
		}
		if attempt < c.MaxAttempts {
			if err := c.Sleep(ctx, wait); err != nil {
				return false, nil, err
			}
			if wait == backoff {
				backoff = min(backoff*2, time.Minute)
			}
		}
	}
	return false, nil, last
}

// resource names the endpoint of path, without its query.
func resource(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return strings.TrimPrefix(p, "/api/v1/")
}

// errorMessage is the ErrorMessage of an error answer: one object or a list
// of them, as the SDK reads them. It is cut short: it goes into a run's
// last error.
func errorMessage(body []byte) string {
	var one struct {
		ErrorMessage string `json:"ErrorMessage"`
	}
	var many []struct {
		ErrorMessage string `json:"ErrorMessage"`
	}
	var msgs []string
	if json.Unmarshal(body, &one) == nil && one.ErrorMessage != "" {
		msgs = append(msgs, one.ErrorMessage)
	} else if json.Unmarshal(body, &many) == nil {
		for _, m := range many {
			if m.ErrorMessage != "" {
				msgs = append(msgs, m.ErrorMessage)
			}
		}
	}
	s := strings.Join(msgs, ", ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// nothingFound: the API answers an empty search with 404 and this message
// (the SDK treats it as an empty list).
func nothingFound(body []byte) bool {
	m := strings.ToLower(errorMessage(body))
	return strings.Contains(m, "nothing found")
}

// throttled: the API answers 403 "You are throttling the system" over its
// rate limit.
func throttled(body []byte) bool {
	return strings.Contains(strings.ToLower(errorMessage(body)), "throttling")
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// nextQuery is the query of the rel="next" target of a Link header. Like
// the SDK, only the query is kept: the next page is asked of the
// connection's own host and endpoint, never of a host the answer names.
func nextQuery(h http.Header) (string, bool) {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
			for _, p := range segs[1:] {
				if rel := strings.ReplaceAll(strings.TrimSpace(p), " ", ""); rel == `rel="next"` || rel == "rel=next" {
					u, err := url.Parse(target)
					if err != nil || u.RawQuery == "" {
						return "", false
					}
					return u.RawQuery, true
				}
			}
		}
	}
	return "", false
}
