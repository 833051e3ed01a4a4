// Package adminpulse reads relations from AdminPulse as its developer
// documentation (developer.adminpulse.be) describes it: an office connects
// by OAuth2 (authorization code; PKCE added) or by an API key made in
// AdminPulse, either sent as "Authorization: Bearer"; the API is at
// https://api.adminpulse.be; GET /relations is paged with a 0-based page and
// pageSize (at most 400) and answers results and pageCount; 480 calls a
// minute, 429 above. AdminPulse has no change feed, so every run is a
// complete pull. The relation's field names are not published: they are
// read tolerantly (see Relation).
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

// PageSize is the number of relations per call: the API's maximum.
const PageSize = 400

// DefaultAPIBaseURL is where the documentation puts the API.
const DefaultAPIBaseURL = "https://api.adminpulse.be"

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

// APIBase is the API's address: the configured one, else the documented one.
func (c Config) APIBase() string {
	if c.APIBaseURL == "" {
		return DefaultAPIBaseURL
	}
	return strings.TrimRight(c.APIBaseURL, "/")
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
	if key := t.current.APIKey; key != "" {
		if force { // the API refused the key: nothing to renew
			return "", errKeyRefused
		}
		return key, nil
	}
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

var errKeyRefused = &commands.SourceError{Message: "AdminPulse refused the API key; connect AdminPulse again with a valid key",
	Err: domain.ErrSourceRejected}

// Relation is a relation as GET /relations gives it. The documentation
// publishes no field list, so each field is read under the names it may
// have (the first one present wins) and the address may be flat or an
// object; see the README's "Connections".
type Relation map[string]json.RawMessage

// text is the first of names present as a string or a number; names may
// be a path into an object ("address.city").
func (r Relation) text(names ...string) string {
	for _, n := range names {
		raw, ok := r.lookup(n)
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				return s
			}
			continue
		}
		var num json.Number
		if json.Unmarshal(raw, &num) == nil {
			return num.String()
		}
	}
	return ""
}

func (r Relation) lookup(name string) (json.RawMessage, bool) {
	head, rest, nested := strings.Cut(name, ".")
	for k, v := range r { // field names compared case-insensitively
		if !strings.EqualFold(k, head) {
			continue
		}
		if !nested {
			return v, true
		}
		var inner Relation
		if json.Unmarshal(v, &inner) == nil {
			return inner.lookup(rest)
		}
		var list []Relation // "addresses.0.city": the first of a list
		idx, after, _ := strings.Cut(rest, ".")
		if json.Unmarshal(v, &list) != nil || idx != "0" || len(list) == 0 || after == "" {
			return nil, false
		}
		return list[0].lookup(after)
	}
	return nil, false
}

func (r Relation) flag(names ...string) bool {
	for _, n := range names {
		if raw, ok := r.lookup(n); ok {
			var b bool
			if json.Unmarshal(raw, &b) == nil {
				return b
			}
		}
	}
	return false
}

// company: a flag says so, or the relation's type names a company rather
// than a person.
func (r Relation) company() bool {
	if r.flag("isCompany", "company") {
		return true
	}
	switch strings.ToLower(r.text("type", "relationType", "kind")) {
	case "company", "companies", "legalperson", "legal_person", "organisation", "organization", "1":
		return true
	}
	return false
}

// Record maps a relation to client fields.
func (r Relation) Record() domain.SourceRecord {
	addr := func(field string, names ...string) string {
		all := append([]string{}, names...)
		for _, n := range names {
			all = append(all, "address."+n, "addresses.0."+n, "mainAddress."+n)
		}
		return r.text(all...)
	}
	d := map[domain.Field]string{
		domain.FieldEmail:       r.text("email", "emailAddress", "mail", "primaryEmail"),
		domain.FieldVATNumber:   r.text("vatNumber", "vat", "vatNr", "enterpriseNumber", "companyNumber"),
		domain.FieldLanguage:    strings.ToLower(r.text("language", "languageCode", "lang")),
		domain.FieldPhone:       r.text("phone", "phoneNumber", "telephone", "mobile", "mobilePhone", "gsm"),
		domain.FieldStreet:      addr("street", "street", "streetName", "address1", "line1"),
		domain.FieldHouseNumber: addr("houseNumber", "houseNumber", "number", "streetNumber"),
		domain.FieldBox:         addr("box", "box", "bus", "boxNumber"),
		domain.FieldPostalCode:  addr("postalCode", "postalCode", "zipCode", "zip", "postcode"),
		domain.FieldCity:        addr("city", "city", "town", "municipality"),
		domain.FieldCountry:     addr("country", "country", "countryCode", "countryIso"),
	}
	if r.company() {
		d[domain.FieldKind] = domain.KindCompany
		d[domain.FieldCompanyName] = r.text("companyName", "name", "commercialName")
		if cn := r.text("commercialName"); cn != "" && cn != d[domain.FieldCompanyName] {
			d[domain.FieldDisplayName] = cn
		}
	} else {
		d[domain.FieldKind] = domain.KindPerson
		d[domain.FieldLastName] = r.text("lastName", "lastname", "surname", "name")
		d[domain.FieldFirstName] = r.text("firstName", "firstname", "givenName")
	}
	return domain.SourceRecord{ExternalID: r.text("id", "relationId", "uniqueIdentifier", "code"), Details: d}
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
	return &Puller{base: cfg.APIBase(), http: hc,
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

// Check reads one relation with an API key: what connecting by key
// verifies. A refused key is a validation error naming api_key.
func Check(ctx context.Context, cfg Config, hc *http.Client, apiKey string) error {
	p := NewPuller(cfg, hc, commands.ConnectionSecrets{APIKey: apiKey}, nil)
	p.MaxAttempts = 2
	var ans relationsPage
	err := p.get(ctx, p.base+"/relations?page=0&pageSize=1", &ans)
	var se *commands.SourceError
	switch {
	case errors.Is(err, domain.ErrSourceRejected):
		return domain.ValidationErrors{{Field: "api_key", Code: "source_refused", Message: "AdminPulse refused the API key"}}
	case errors.As(err, &se):
		return se
	}
	return err
}

func (p *Puller) unreachable(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &commands.SourceError{Message: "could not reach AdminPulse", Err: err}
}
