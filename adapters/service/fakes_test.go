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
