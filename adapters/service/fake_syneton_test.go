package service_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSyneton is an Admin IS | Consult server shaped as the public SDK
// (cornettew/adminconsult-sdk) reads it: GET /api/v1/token/{key} gives
// {TokenGuid, TimeToLive (a date-time)}; calls carry the header
// synetonToken; /apisettings; /customers (CustomerId, no address) and
// /customeraddresses filtered by "CustomerId in (...)"; the change feed
// /customer/changes filtered by "TableName in (...) and l.LogId ge N [and
// l.LogId lt M]" with entries {Id, OwnId, TableName, ActionType, LogId,
// DateAction}; pages by per_page and Link rel="next"; an empty answer is
// 204 (customers, feed) or 404 {"ErrorMessage":"Nothing found"}
// (addresses); over the limit, 403 "You are throttling the system".
type fakeSyneton struct {
	*httptest.Server
	mu        sync.Mutex
	apiKey    string
	customers map[int]map[string]any
	addresses []map[string]any
	changes   []map[string]any
	logID     int
	addrID    int
	perPage   int
	logins    int
	valid     map[string]int // token -> calls left
	tokenUses int
	throttle  int // next calls to answer 403 "throttled"
	throttled int
	// feedFrom lists the "l.LogId ge N" of the feed queries made once a
	// listing started, in order.
	feedFrom []int
	listed   bool
	// onListPage runs (locked) when a page of customers is served.
	onListPage func(page int)
}

func newFakeSyneton(t *testing.T, apiKey string) *fakeSyneton {
	f := &fakeSyneton{apiKey: apiKey, customers: map[int]map[string]any{}, perPage: 2, valid: map[string]int{}, tokenUses: 1000,
		logID: 40_000_000, addrID: 900}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/token/{key}", f.token)
	mux.HandleFunc("GET /api/v1/apisettings", f.auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, map[string]any{"DefaultRecordsPerPage": 1, "MaxRecordsPerPage": f.perPage, "DurationToken": 20, "RateLimit": 6000})
	}))
	mux.HandleFunc("GET /api/v1/customers", f.auth(f.listCustomers))
	mux.HandleFunc("GET /api/v1/customeraddresses", f.auth(f.listAddresses))
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
		w.WriteHeader(http.StatusUnauthorized)
		writeJSONBody(w, map[string]any{"ErrorMessage": "No valid configuration for token"})
		return
	}
	f.logins++
	tok := fmt.Sprintf("5f0c1a2e-0000-4000-8000-%012d", f.logins)
	f.valid[tok] = f.tokenUses
	// A .NET local date-time, as the server's clock (Brussels) reads it.
	brussels, _ := time.LoadLocation("Europe/Brussels")
	writeJSONBody(w, map[string]any{"TokenGuid": tok, "TimeToLive": time.Now().In(brussels).Add(20 * time.Minute).Format("2006-01-02T15:04:05.0000000")})
}

// auth checks the session token and plays throttling; handlers run locked.
func (f *fakeSyneton) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		tok := r.Header.Get("synetonToken")
		left, ok := f.valid[tok]
		if !ok || left <= 0 {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSONBody(w, map[string]any{"ErrorMessage": "Token is expired"})
			return
		}
		f.valid[tok] = left - 1
		if f.throttle > 0 {
			f.throttle--
			f.throttled++
			w.WriteHeader(http.StatusForbidden)
			writeJSONBody(w, map[string]any{"ErrorMessage": "You are throttling the system. Please try again later."})
			return
		}
		h(w, r)
	}
}

var (
	inIDs    = regexp.MustCompile(`^CustomerId in \(([0-9, ]*)\)$`)
	feedExpr = regexp.MustCompile(`^TableName in \(('[A-Z_]+'(?:,'[A-Z_]+')*)\)(?: and l\.LogId ge (\d+))?(?: and l\.LogId lt (\d+))?$`)
)

// page serves items page by page; the next link names another host, which
// the client must not follow (the SDK keeps only its query).
func (f *fakeSyneton) page(w http.ResponseWriter, r *http.Request, items []map[string]any, empty string) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 1
	}
	page := max(1, atoi(q.Get("page")))
	from := min((page-1)*per, len(items))
	out := items[from:min(page*per, len(items))]
	if len(out) == 0 {
		switch empty {
		case "204":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			writeJSONBody(w, map[string]any{"ErrorMessage": "Nothing found"})
		}
		return
	}
	if page*per < len(items) {
		q.Set("page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf(`<https://api.syneton.invalid%s?%s>; rel="next", <https://api.syneton.invalid%s?page=1>; rel="first",`,
			r.URL.Path, q.Encode(), r.URL.Path))
	}
	writeJSONBody(w, out)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (f *fakeSyneton) listCustomers(w http.ResponseWriter, r *http.Request) {
	ids := make([]int, 0, len(f.customers))
	for id := range f.customers {
		ids = append(ids, id)
	}
	if filter := r.URL.Query().Get("Filter"); filter != "" {
		m := inIDs.FindStringSubmatch(filter)
		if m == nil {
			w.WriteHeader(http.StatusBadRequest)
			writeJSONBody(w, map[string]any{"ErrorMessage": "Invalid filter"})
			return
		}
		ids = ids[:0]
		for _, s := range strings.Split(m[1], ",") {
			if id := atoi(strings.TrimSpace(s)); f.customers[id] != nil {
				ids = append(ids, id)
			}
		}
	} else {
		f.listed = true
		if f.onListPage != nil {
			f.onListPage(max(1, atoi(r.URL.Query().Get("page"))))
		}
	}
	slices.Sort(ids)
	items := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, f.customers[id])
	}
	f.page(w, r, items, "204")
}

func (f *fakeSyneton) listAddresses(w http.ResponseWriter, r *http.Request) {
	m := inIDs.FindStringSubmatch(r.URL.Query().Get("Filter"))
	if m == nil {
		w.WriteHeader(http.StatusBadRequest)
		writeJSONBody(w, map[string]any{"ErrorMessage": "Invalid filter"})
		return
	}
	want := map[int]bool{}
	for _, s := range strings.Split(m[1], ",") {
		want[atoi(strings.TrimSpace(s))] = true
	}
	var items []map[string]any
	for _, a := range f.addresses {
		if want[a["CustomerId"].(int)] {
			items = append(items, a)
		}
	}
	f.page(w, r, items, "404")
}

func (f *fakeSyneton) feed(w http.ResponseWriter, r *http.Request) {
	m := feedExpr.FindStringSubmatch(r.URL.Query().Get("Filter"))
	if m == nil {
		w.WriteHeader(http.StatusBadRequest)
		writeJSONBody(w, map[string]any{"ErrorMessage": "Invalid filter"})
		return
	}
	tables := map[string]bool{}
	for _, t := range strings.Split(m[1], ",") {
		tables[strings.Trim(t, "'")] = true
	}
	from, upTo := 0, int(^uint(0)>>1)
	if m[2] != "" {
		from = atoi(m[2])
		if f.listed && r.URL.Query().Get("page") == "" {
			f.feedFrom = append(f.feedFrom, from)
		}
	}
	if m[3] != "" {
		upTo = atoi(m[3])
	}
	var items []map[string]any
	for _, c := range f.changes {
		if id := c["LogId"].(int); tables[c["TableName"].(string)] && id >= from && id < upTo && len(items) < 1000 {
			items = append(items, c)
		}
	}
	f.page(w, r, items, "204")
}

// record appends a feed entry (locked).
func (f *fakeSyneton) record(customerID, ownID int, table, action string) {
	f.logID += 3 // other tables' entries share the log
	f.changes = append(f.changes, map[string]any{"LogId": f.logID, "Id": customerID, "OwnId": ownID, "TableName": table,
		"ActionType": action, "DateAction": time.Now().Format("2006-01-02T15:04:05")})
}

// put creates or replaces a customer and its addresses.
func (f *fakeSyneton) put(id int, customer map[string]any, addresses ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putLocked(id, customer, addresses...)
}

func (f *fakeSyneton) putLocked(id int, customer map[string]any, addresses ...map[string]any) {
	action := "UPDATE"
	if f.customers[id] == nil {
		action = "INSERT"
	}
	customer["CustomerId"] = id
	if _, ok := customer["IsActive"]; !ok {
		customer["IsActive"] = true
	}
	f.customers[id] = customer
	f.record(id, id, "CUSTOMER", action)
	for _, a := range addresses {
		f.addrID++
		a["CustomerAddressId"], a["CustomerId"], a["AddressId"] = f.addrID, id, f.addrID+5000
		f.addresses = append(f.addresses, a)
		f.record(id, f.addrID, "CUSTOMER_ADRESS", "INSERT")
	}
}

// update changes fields of a customer.
func (f *fakeSyneton) update(id int, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range fields {
		f.customers[id][k] = v
	}
	f.record(id, id, "CUSTOMER", "UPDATE")
}

// deleteCustomer deletes a customer and its addresses.
func (f *fakeSyneton) deleteCustomer(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.customers, id)
	f.addresses = slices.DeleteFunc(f.addresses, func(a map[string]any) bool { return a["CustomerId"] == id })
	f.record(id, id, "CUSTOMER", "DELETE")
}

// deleteAddresses deletes the address rows of a customer.
func (f *fakeSyneton) deleteAddresses(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addresses = slices.DeleteFunc(f.addresses, func(a map[string]any) bool {
		if a["CustomerId"] == id {
			f.record(id, a["CustomerAddressId"].(int), "CUSTOMER_ADRESS", "DELETE")
			return true
		}
		return false
	})
}

// history appends n entries of long ago about customer id (an office's log
// is in the tens of millions).
func (f *fakeSyneton) history(id, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.record(id, id, "CUSTOMER", "UPDATE")
	}
	f.record(0, 77, "CUSTOMER_EMAIL", "INSERT") // an entry naming no customer
}

func (f *fakeSyneton) head() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logID
}
