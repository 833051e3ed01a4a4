package syneton

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNextLink(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<https://x.be/api/v1/customers?page=1>; rel="prev", </api/v1/customers?page=3&per_page=50>; rel="next"`)
	if got := nextLink(h, "https://x.be/api/v1/customers?page=2"); got != "https://x.be/api/v1/customers?page=3&per_page=50" {
		t.Fatalf("next %q", got)
	}
	if got := nextLink(http.Header{"Link": {`<https://x.be/a>; rel="last"`}}, "https://x.be"); got != "" {
		t.Fatalf("no next: %q", got)
	}
}

func TestTimeToLive(t *testing.T) {
	for raw, want := range map[string]time.Duration{`1200`: 18 * time.Minute, `"00:20:00"`: 18 * time.Minute, `null`: 5 * time.Minute} {
		if got := ttl(json.RawMessage(raw)); got != want {
			t.Errorf("ttl(%s) = %s, want %s", raw, got, want)
		}
	}
}

func TestCustomerMapping(t *testing.T) {
	var c Customer
	_ = json.Unmarshal([]byte(`{"Id": 42, "Name": "Janssens", "Firstname": "Eva", "Mobile": "0470 12 34 56", "Language": "N",
		"Street1": "Markt", "HouseNr": "1", "HouseBox": "b", "ZipCode": "2000", "City": "Antwerpen", "CountryCode": "BE"}`), &c)
	r := c.Record()
	if r.ExternalID != "42" || r.Details["last_name"] != "Janssens" || r.Details["phone"] != "0470 12 34 56" ||
		r.Details["language"] != "nl" || r.Details["box"] != "b" || r.Details["kind"] != "person" {
		t.Fatalf("record %+v", r)
	}
}

// TestTokenRenewedAfterTimeToLive: a session token is used until 90% of
// its TimeToLive, then the client logs in again before calling.
func TestTokenRenewedAfterTimeToLive(t *testing.T) {
	logins := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/token/") {
			logins++
			fmt.Fprintf(w, `{"TokenGuid":"g%d","TimeToLive":10}`, logins)
			return
		}
		if r.Header.Get("synetonToken") != fmt.Sprintf("g%d", logins) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"DefaultRecordsPerPage":10,"MaxRecordsPerPage":100}`)
	}))
	defer srv.Close()
	c := New(srv.URL, "k", nil)
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }
	for _, step := range []time.Duration{0, 8 * time.Second, 2 * time.Second} {
		now = now.Add(step)
		if _, err := c.Settings(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 0 s: login; 8 s: still valid (renewal at 9 s); 10 s: renewed.
	if logins != 2 {
		t.Fatalf("%d logins, want 2", logins)
	}
}
