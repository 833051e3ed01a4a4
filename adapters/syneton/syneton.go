// Package syneton reads clients from Admin IS | Consult (Syneton): an API
// key exchanged for a session token (header synetonToken), customers paged
// by Link rel="next", then the customer change feed by LogId.
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

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

const productName = "Admin IS | Consult"

// Settings is what GET /api/v1/apisettings says.
type Settings struct {
	DefaultRecordsPerPage int `json:"DefaultRecordsPerPage"`
	MaxRecordsPerPage     int `json:"MaxRecordsPerPage"`
	DurationToken         int `json:"DurationToken"`
	RateLimit             int `json:"RateLimit"`
}

// Client talks to one Admin IS | Consult server. Not safe for concurrent
// use: one run uses one client.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
	now     func() time.Time
	// Sleep waits for a back-off; tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxAttempts bounds the tries of one call (throttling, dropped connections).
	MaxAttempts int

	token       string
	tokenExpiry time.Time
	perPage     int
}

// New builds a client; nothing is sent until the first call.
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
	var se *commands.SourceError
	if errors.As(err, &se) {
		field := "base_url"
		if errors.Is(err, domain.ErrSourceRejected) {
			field = "api_key"
		}
		return domain.ValidationErrors{{Field: field, Code: "source_refused", Message: se.Message}}
	}
	if err != nil {
		return err
	}
	if _, err := c.Settings(ctx); err != nil {
		if errors.As(err, &se) {
			return domain.ValidationErrors{{Field: "base_url", Code: "source_refused", Message: se.Message}}
		}
		return err
	}
	return nil
}

type tokenAnswer struct {
	TokenGuid  string          `json:"TokenGuid"`
	TimeToLive json.RawMessage `json:"TimeToLive"`
}

// login exchanges the API key for a session token. The key is in the
// path, so no error here may carry the URL.
func (c *Client) login(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/api/v1/token/"+url.PathEscape(c.apiKey), nil)
	if err != nil {
		return &commands.SourceError{Message: "the " + productName + " address is not a valid URL"}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusNotFound && len(body) > 0 && json.Valid(body):
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
	c.tokenExpiry = c.now().Add(ttl(ans.TimeToLive))
	return nil
}

// ttl reads TimeToLive: seconds as a number, or a "hh:mm:ss" duration.
// The token is renewed at 90% of it.
func ttl(raw json.RawMessage) time.Duration {
	var secs float64
	if json.Unmarshal(raw, &secs) == nil && secs > 0 {
		return time.Duration(secs * 0.9 * float64(time.Second))
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var h, m, sec int
		if n, _ := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); n == 3 {
			return time.Duration(float64(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+time.Duration(sec)*time.Second) * 0.9)
		}
	}
	return 5 * time.Minute
}

func (c *Client) unreachable(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL may hold the API key
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &commands.SourceError{Message: "could not reach " + productName + " at " + c.baseURL, Err: err}
}

// Settings reads the API settings.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	_, err := c.get(ctx, c.baseURL+"/api/v1/apisettings", &s)
	return s, err
}

// get calls the API with the session token: renews it when it is about to
// expire or was refused, backs off while the server throttles (a 403 that
// says so) or drops the connection.
func (c *Client) get(ctx context.Context, target string, out any) (http.Header, error) {
	backoff := time.Second
	renewed := false
	var last error
	for attempt := 1; attempt <= c.MaxAttempts; attempt++ {
		if c.token == "" || !c.now().Before(c.tokenExpiry) {
			if err := c.login(ctx); err != nil {
				return nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("synetonToken", c.token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			last = c.unreachable(err)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		} else {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			resp.Body.Close()
			switch {
			case readErr != nil:
				last = c.unreachable(readErr) // dropped mid-answer
			case resp.StatusCode == http.StatusOK:
				if err := json.Unmarshal(body, out); err != nil {
					return nil, &commands.SourceError{Message: productName + " sent an answer that could not be read", Err: err}
				}
				return resp.Header, nil
			case resp.StatusCode == http.StatusUnauthorized && !renewed:
				c.token, renewed = "", true // expired early: log in again once
				continue
			case resp.StatusCode == http.StatusForbidden && throttled(body):
				last = &commands.SourceError{Message: productName + " kept throttling the requests; the next run continues"}
				if d := retryAfter(resp.Header); d > 0 {
					backoff = d
				}
			case resp.StatusCode == http.StatusNotFound:
				return nil, errNotFound
			case resp.StatusCode >= 500:
				last = &commands.SourceError{Message: fmt.Sprintf("%s answered HTTP %d", productName, resp.StatusCode)}
			default:
				return nil, &commands.SourceError{Message: fmt.Sprintf("%s refused the request (HTTP %d)", productName, resp.StatusCode),
					Err: domain.ErrSourceRejected}
			}
		}
		if attempt < c.MaxAttempts {
			if err := c.Sleep(ctx, backoff); err != nil {
				return nil, err
			}
			backoff = min(backoff*2, time.Minute)
		}
	}
	return nil, last
}

var errNotFound = errors.New("not found")

// throttled: Admin IS | Consult answers 403 with a message saying so.
func throttled(body []byte) bool {
	s := strings.ToLower(string(body))
	return strings.Contains(s, "throttl") || strings.Contains(s, "rate limit") || strings.Contains(s, "too many")
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// nextLink finds the rel="next" target of a Link header.
func nextLink(h http.Header, base string) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
			for _, p := range segs[1:] {
				if strings.ReplaceAll(strings.TrimSpace(p), " ", "") == `rel="next"` || strings.TrimSpace(p) == "rel=next" {
					if u, err := url.Parse(target); err == nil && !u.IsAbs() {
						if b, err := url.Parse(base); err == nil {
							return b.ResolveReference(u).String()
						}
					}
					return target
				}
			}
		}
	}
	return ""
}
