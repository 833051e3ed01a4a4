package service_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAdminPulse is an AdminPulse with an OAuth2 server (authorization code
// with PKCE, refresh) and GET /relations paged 0-based.
type fakeAdminPulse struct {
	*httptest.Server
	mu         sync.Mutex
	relations  map[string]map[string]any
	challenge  string           // PKCE challenge of the pending authorization
	valid      map[string]int   // access token -> calls left before it "expires"
	tokenCalls int              // calls a token is good for
	refreshes  int              // refresh grants served
	pages      []int            // pages requested, in order
	fail       map[int][]string // page -> scripted failures ("429", "drop", "401") consumed in order
	failAlways map[int]string   // page -> failure on every call
}

func newFakeAdminPulse(t *testing.T) *fakeAdminPulse {
	f := &fakeAdminPulse{relations: map[string]map[string]any{}, valid: map[string]int{}, tokenCalls: 1000,
		fail: map[int][]string{}, failAlways: map[int]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /api/relations", f.list)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAdminPulse) issue(w http.ResponseWriter) {
	tok := fmt.Sprintf("access-%d", len(f.valid)+1)
	f.valid[tok] = f.tokenCalls
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer",
		"refresh_token": "refresh-" + tok, "expires_in": 3600})
}

func (f *fakeAdminPulse) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = r.ParseForm()
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if r.Form.Get("code") != "good-code" || base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
	case "refresh_token":
		if !strings.HasPrefix(r.Form.Get("refresh_token"), "refresh-") {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		f.refreshes++
	default:
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	f.issue(w)
}

func (f *fakeAdminPulse) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	failure := f.failAlways[page]
	if failure == "" && len(f.fail[page]) > 0 {
		failure, f.fail[page] = f.fail[page][0], f.fail[page][1:]
	}
	left, ok := f.valid[tok]
	if ok {
		f.valid[tok] = left - 1
	}
	f.pages = append(f.pages, page)
	ids := make([]string, 0, len(f.relations))
	for id := range f.relations {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var results []map[string]any
	for i := page * size; i < len(ids) && i < (page+1)*size; i++ {
		results = append(results, f.relations[ids[i]])
	}
	body, _ := json.Marshal(map[string]any{"results": results, "currentPage": page,
		"pageCount": (len(ids) + size - 1) / size, "pageSize": size, "totalRowCount": len(ids)})
	f.mu.Unlock()

	switch {
	case !ok || left <= 0 || failure == "401":
		http.Error(w, `{"message":"token expired"}`, http.StatusUnauthorized)
	case failure == "429":
		w.Header().Set("Retry-After", "2")
		http.Error(w, `{"message":"Too many requests"}`, http.StatusTooManyRequests)
	case failure == "drop":
		dropMidway(w, body)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// dropMidway sends half of the answer and closes the connection.
func dropMidway(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func (f *fakeAdminPulse) set(id string, rel map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rel["id"] = id
	f.relations[id] = rel
}

func (f *fakeAdminPulse) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.relations, id)
}

func (f *fakeAdminPulse) requestedPages() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.pages
	f.pages = nil
	return out
}

// fakeSyneton is an Admin IS | Consult server: token by API key, customers
// paged with Link rel="next", the change feed by LogId, throttling as 403.
type fakeSyneton struct {
	*httptest.Server
	mu        sync.Mutex
	apiKey    string
	customers map[string]map[string]any
	changes   []map[string]any
	perPage   int
	logins    int
	valid     map[string]int // token -> calls left
	tokenUses int
	throttle  int // next calls to answer 403 "throttled"
	throttled int
}

func newFakeSyneton(t *testing.T, apiKey string) *fakeSyneton {
	f := &fakeSyneton{apiKey: apiKey, customers: map[string]map[string]any{}, perPage: 2, valid: map[string]int{}, tokenUses: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/token/{key}", f.token)
	mux.HandleFunc("GET /api/v1/apisettings", f.auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, map[string]any{"DefaultRecordsPerPage": 1, "MaxRecordsPerPage": f.perPage, "DurationToken": 20, "RateLimit": 100})
	}))
	mux.HandleFunc("GET /api/v1/customers", f.auth(f.list))
	mux.HandleFunc("GET /api/v1/customers/{id}", f.auth(func(w http.ResponseWriter, r *http.Request) {
		c, ok := f.customers[r.PathValue("id")]
		if !ok {
			http.Error(w, `{"Message":"not found"}`, http.StatusNotFound)
			return
		}
		writeJSONBody(w, c)
	}))
	mux.HandleFunc("GET /api/v1/customer/changes", f.auth(f.feed))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeJSONBody(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSyneton) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.PathValue("key") != f.apiKey {
		http.Error(w, `{"Message":"Invalid API key"}`, http.StatusUnauthorized)
		return
	}
	f.logins++
	tok := fmt.Sprintf("guid-%d", f.logins)
	f.valid[tok] = f.tokenUses
	writeJSONBody(w, map[string]any{"TokenGuid": tok, "TimeToLive": 1200})
}

// auth checks the session token and plays throttling; handlers run locked.
func (f *fakeSyneton) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		tok := r.Header.Get("synetonToken")
		left, ok := f.valid[tok]
		if !ok || left <= 0 {
			http.Error(w, `{"Message":"Token expired"}`, http.StatusUnauthorized)
			return
		}
		f.valid[tok] = left - 1
		if f.throttle > 0 {
			f.throttle--
			f.throttled++
			http.Error(w, `{"Message":"Request throttled: API calls quota exceeded"}`, http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

func (f *fakeSyneton) list(w http.ResponseWriter, r *http.Request) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	ids := make([]string, 0, len(f.customers))
	for id := range f.customers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []map[string]any
	for i := (page - 1) * per; i < len(ids) && i < page*per; i++ {
		out = append(out, f.customers[ids[i]])
	}
	if page*per < len(ids) {
		w.Header().Set("Link", fmt.Sprintf(`<%s/api/v1/customers?per_page=%d&page=%d>; rel="next"`, f.URL, per, page+1))
	}
	writeJSONBody(w, out)
}

func (f *fakeSyneton) feed(w http.ResponseWriter, r *http.Request) {
	var from int64
	if _, err := fmt.Sscanf(r.URL.Query().Get("Filter"), "LogId ge %d", &from); err != nil {
		http.Error(w, `{"Message":"bad filter"}`, http.StatusBadRequest)
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	out := []map[string]any{}
	for _, c := range f.changes {
		if c["LogId"].(int64) >= from && len(out) < per {
			out = append(out, c)
		}
	}
	writeJSONBody(w, out)
}

// change records a change at the source: the customer's new state (nil:
// deleted) and a feed entry.
func (f *fakeSyneton) change(id, action string, customer map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if customer == nil {
		delete(f.customers, id)
	} else {
		customer["Id"] = id
		f.customers[id] = customer
	}
	f.changes = append(f.changes, map[string]any{"LogId": int64(len(f.changes) + 100), "ActionType": action, "CustomerId": id})
}
