// Package adminpulse reads relations from AdminPulse: OAuth2 (authorization
// code with PKCE), GET /relations paged 400 at a time, at most 480 calls a
// minute. AdminPulse has no change feed, so every run is a complete pull.
package adminpulse

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
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// PageSize is the number of relations per call.
const PageSize = 400

// Config is the OAuth2 client of this deployment and the API's address.
type Config struct {
	APIBaseURL   string
	AuthURL      string
	TokenURL     string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	// CallsPerMinute bounds the calls of one run (AdminPulse allows 480).
	CallsPerMinute int
}

// Configured tells whether the deployment can connect AdminPulse at all.
func (c Config) Configured() bool {
	return c.ClientID != "" && c.AuthURL != "" && c.TokenURL != "" && c.APIBaseURL != ""
}

func (c Config) oauth() *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL, Scopes: c.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL}}
}

// Flow is the OAuth2 consent of an office.
type Flow struct {
	cfg  Config
	http *http.Client
}

var _ commands.OAuthFlow = Flow{}

// NewFlow builds the consent flow; hc may be nil.
func NewFlow(cfg Config, hc *http.Client) Flow { return Flow{cfg: cfg, http: hc} }

// Begin returns the authorization URL with a fresh state and PKCE verifier.
func (f Flow) Begin() (string, string, string) {
	state := oauth2.GenerateVerifier() // 32 random bytes, URL-safe
	verifier := oauth2.GenerateVerifier()
	return f.cfg.oauth().AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier)), state, verifier
}

func (f Flow) ctx(ctx context.Context) context.Context {
	if f.http != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, f.http)
	}
	return ctx
}

// Exchange trades the code (with the PKCE verifier) for tokens.
func (f Flow) Exchange(ctx context.Context, code, verifier string) (commands.ConnectionSecrets, error) {
	tok, err := f.cfg.oauth().Exchange(f.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return commands.ConnectionSecrets{}, &commands.SourceError{
			Message: "AdminPulse did not accept the authorization; start the connection again", Err: domain.ErrSourceRejected}
	}
	return toSecrets(tok), nil
}

func toSecrets(t *oauth2.Token) commands.ConnectionSecrets {
	return commands.ConnectionSecrets{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Expiry: t.Expiry}
}

// refreshEarly is how long before its expiry a token is renewed.
const refreshEarly = time.Minute

// tokens hands out a valid access token, refreshing it before it expires
// (or when the API refused it) and saving every new one.
type tokens struct {
	flow    Flow
	mu      sync.Mutex
	current commands.ConnectionSecrets
	save    func(context.Context, commands.ConnectionSecrets) error
	now     func() time.Time
}

func (t *tokens) token(ctx context.Context, force bool) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fresh := t.current.AccessToken != "" && (t.current.Expiry.IsZero() || t.now().Add(refreshEarly).Before(t.current.Expiry))
	if fresh && !force {
		return t.current.AccessToken, nil
	}
	if t.current.RefreshToken == "" {
		return "", &commands.SourceError{Message: "the AdminPulse authorization expired; connect AdminPulse again", Err: domain.ErrSourceRejected}
	}
	src := t.flow.cfg.oauth().TokenSource(t.flow.ctx(ctx), &oauth2.Token{RefreshToken: t.current.RefreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return "", &commands.SourceError{Message: "AdminPulse refused to renew the authorization; connect AdminPulse again", Err: domain.ErrSourceRejected}
		}
		return "", &commands.SourceError{Message: "could not reach AdminPulse to renew the authorization"}
	}
	next := toSecrets(tok)
	if next.RefreshToken == "" {
		next.RefreshToken = t.current.RefreshToken
	}
	if err := t.save(ctx, next); err != nil {
		return "", err
	}
	t.current = next
	return next.AccessToken, nil
}

// Relation is a relation as GET /relations gives it.
type Relation struct {
	ID          json.RawMessage `json:"id"`
	Name        string          `json:"name"`
	FirstName   string          `json:"firstName"`
	IsCompany   bool            `json:"isCompany"`
	VATNumber   string          `json:"vatNumber"`
	Email       string          `json:"email"`
	Phone       string          `json:"phone"`
	Mobile      string          `json:"mobile"`
	Language    string          `json:"language"`
	Street      string          `json:"street"`
	HouseNumber string          `json:"houseNumber"`
	Box         string          `json:"box"`
	PostalCode  string          `json:"postalCode"`
	City        string          `json:"city"`
	Country     string          `json:"country"`
}

// Record maps a relation to client fields.
func (r Relation) Record() domain.SourceRecord {
	id := strings.TrimSpace(string(r.ID))
	var s string
	if json.Unmarshal(r.ID, &s) == nil {
		id = strings.TrimSpace(s)
	}
	d := map[domain.Field]string{
		domain.FieldEmail: r.Email, domain.FieldVATNumber: r.VATNumber, domain.FieldLanguage: strings.ToLower(r.Language),
		domain.FieldPhone: r.Phone, domain.FieldStreet: r.Street, domain.FieldHouseNumber: r.HouseNumber,
		domain.FieldBox: r.Box, domain.FieldPostalCode: r.PostalCode, domain.FieldCity: r.City, domain.FieldCountry: r.Country,
	}
	if r.Phone == "" {
		d[domain.FieldPhone] = r.Mobile
	}
	if r.IsCompany {
		d[domain.FieldKind], d[domain.FieldCompanyName] = domain.KindCompany, r.Name
	} else {
		d[domain.FieldKind], d[domain.FieldLastName], d[domain.FieldFirstName] = domain.KindPerson, r.Name, r.FirstName
	}
	return domain.SourceRecord{ExternalID: id, Details: d}
}

type relationsPage struct {
	Results       []Relation `json:"results"`
	CurrentPage   int        `json:"currentPage"`
	PageCount     int        `json:"pageCount"`
	PageSize      int        `json:"pageSize"`
	TotalRowCount int        `json:"totalRowCount"`
}

// Puller pulls every relation, page after page.
type Puller struct {
	base   string
	http   *http.Client
	tokens *tokens
	// interval spaces the calls (60s / calls per minute).
	interval time.Duration
	lastCall time.Time
	now      func() time.Time
	// Sleep waits; tests make it instant.
	Sleep       func(ctx context.Context, d time.Duration) error
	MaxAttempts int
}

// NewPuller builds the puller of one connection with its stored tokens.
func NewPuller(cfg Config, hc *http.Client, secrets commands.ConnectionSecrets,
	save func(context.Context, commands.ConnectionSecrets) error) *Puller {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	perMinute := cfg.CallsPerMinute
	if perMinute <= 0 {
		perMinute = 480
	}
	return &Puller{base: strings.TrimRight(cfg.APIBaseURL, "/"), http: hc,
		tokens:   &tokens{flow: NewFlow(cfg, hc), current: secrets, save: save, now: time.Now},
		interval: time.Minute / time.Duration(perMinute), now: time.Now, Sleep: sleep, MaxAttempts: 6}
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

// Next reads page cur (0-based; "" is 0). Every run lists everything: the
// last page ends the listing, so relations it lacked are marked removed.
func (p *Puller) Next(ctx context.Context, cur string) (commands.SourcePage, error) {
	page := 0
	if cur != "" {
		n, err := strconv.Atoi(cur)
		if err != nil || n < 0 {
			return commands.SourcePage{}, fmt.Errorf("adminpulse cursor %q: not a page number", cur)
		}
		page = n
	}
	var ans relationsPage
	if err := p.get(ctx, fmt.Sprintf("%s/relations?page=%d&pageSize=%d", p.base, page, PageSize), &ans); err != nil {
		return commands.SourcePage{}, err
	}
	out := commands.SourcePage{Listing: true, PullStart: page == 0}
	for _, r := range ans.Results {
		out.Records = append(out.Records, r.Record())
	}
	if page+1 >= ans.PageCount {
		out.Last, out.ListingEnd = true, true
		out.Cursor = "" // the next run starts a new pull
	} else {
		out.Cursor = strconv.Itoa(page + 1)
	}
	return out, nil
}

// get calls the API within the rate limit, backing off on 429, renewing
// the token when it expires or is refused, retrying a dropped connection.
func (p *Puller) get(ctx context.Context, target string, out any) error {
	backoff := time.Second
	refreshed := false
	var last error
	for attempt := 1; attempt <= p.MaxAttempts; attempt++ {
		if wait := p.lastCall.Add(p.interval).Sub(p.now()); wait > 0 {
			if err := p.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		p.lastCall = p.now()
		token, err := p.tokens.token(ctx, false)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := p.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = p.unreachable(err)
		} else {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			resp.Body.Close()
			switch {
			case readErr != nil:
				last = p.unreachable(readErr)
			case resp.StatusCode == http.StatusOK:
				if err := json.Unmarshal(body, out); err != nil {
					return &commands.SourceError{Message: "AdminPulse sent an answer that could not be read", Err: err}
				}
				return nil
			case resp.StatusCode == http.StatusUnauthorized && !refreshed:
				refreshed = true
				if _, err := p.tokens.token(ctx, true); err != nil {
					return err
				}
				continue
			case resp.StatusCode == http.StatusTooManyRequests:
				last = &commands.SourceError{Message: "AdminPulse kept limiting the requests; the next run continues"}
				if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
					backoff = time.Duration(s) * time.Second
				}
			case resp.StatusCode >= 500:
				last = &commands.SourceError{Message: fmt.Sprintf("AdminPulse answered HTTP %d", resp.StatusCode)}
			default:
				return &commands.SourceError{Message: fmt.Sprintf("AdminPulse refused the request (HTTP %d)", resp.StatusCode),
					Err: domain.ErrSourceRejected}
			}
		}
		if attempt < p.MaxAttempts {
			if err := p.Sleep(ctx, backoff); err != nil {
				return err
			}
			backoff = min(backoff*2, time.Minute)
		}
	}
	return last
}

func (p *Puller) unreachable(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &commands.SourceError{Message: "could not reach AdminPulse", Err: err}
}
