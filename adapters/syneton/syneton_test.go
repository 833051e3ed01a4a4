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

// TestNextQueryStaysOnTheConnectionsHost: only the query of a next link is
// kept (as the SDK does), so an answer cannot send the next call elsewhere.
func TestNextQueryStaysOnTheConnectionsHost(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<https://other.example/api/v1/customers?page=1>; rel="prev", <https://other.example/api/v1/customers?page=3&per_page=50>; rel="next",`)
	if got, ok := nextQuery(h); !ok || got != "page=3&per_page=50" {
		t.Fatalf("next %q %v", got, ok)
	}
	if got, ok := nextQuery(http.Header{"Link": {`<https://x.be/a?page=9>; rel="last"`}}); ok {
		t.Fatalf("no next: %q", got)
	}
}

func TestTimeToLiveIsADateTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 10:00 in Brussels
	for raw, want := range map[string]time.Time{
		`"2026-03-02T10:20:00+01:00"`:     time.Date(2026, 3, 2, 9, 19, 0, 0, time.UTC),
		`"2026-03-02T10:20:00.1234567"`:   time.Date(2026, 3, 2, 9, 19, 0, 123456700, time.UTC), // no zone: Belgian time
		`"2026-03-02T09:59:00"`:           now.Add(5 * time.Minute),                             // already past: renewed soon
		`"soon"`:                          now.Add(5 * time.Minute),
		`null`:                            now.Add(5 * time.Minute),
		`"2026-03-02 10:30:00"`:           time.Date(2026, 3, 2, 9, 29, 0, 0, time.UTC),
		`"2026-03-02T09:40:00Z"`:          time.Date(2026, 3, 2, 9, 39, 0, 0, time.UTC),
		`"2026-03-02T10:20:00.000+01:00"`: time.Date(2026, 3, 2, 9, 19, 0, 0, time.UTC),
	} {
		if got := renewAt(json.RawMessage(raw), now); !got.Equal(want) {
			t.Errorf("renewAt(%s) = %s, want %s", raw, got.UTC(), want.UTC())
		}
	}
}

func TestCustomerMapping(t *testing.T) {
	var c Customer
	if err := json.Unmarshal([]byte(`{"CustomerId": 42, "Name": "Janssens", "Firstname": "Eva", "Phone": "", "Mobile": "0470 12 34 56",
		"Language": "N", "IsActive": true, "IsCompany": false}`), &c); err != nil {
		t.Fatal(err)
	}
	var addrs []Address
	if err := json.Unmarshal([]byte(`[
		{"CustomerAddressId": 7, "CustomerId": 42, "RegisteredOffice": false, "InvoiceAddress": true,
		 "Street1": "Kaai 9", "StreetName": "Kaai", "HouseNr": "9", "ZipCode": "9000", "City": "Gent", "CountryCode": "BE"},
		{"CustomerAddressId": 8, "CustomerId": 42, "RegisteredOffice": true,
		 "Street1": "Markt 1/b", "StreetName": "", "HouseNr": "1", "HouseBox": "b", "ZipCode": "2000", "City": "Antwerpen", "CountryCode": "BE"}]`), &addrs); err != nil {
		t.Fatal(err)
	}
	r := c.Record(addrs)
	d := r.Details
	if r.ExternalID != "42" || d["last_name"] != "Janssens" || d["phone"] != "0470 12 34 56" || d["language"] != "nl" || d["kind"] != "person" ||
		d["street"] != "Markt" || d["house_number"] != "1" || d["box"] != "b" || d["city"] != "Antwerpen" {
		t.Fatalf("record %+v", r)
	}
	c.IsActive = new(flag)
	if r := c.Record(addrs); !r.Deleted || r.ExternalID != "42" {
		t.Fatalf("deactivated: %+v", r)
	}
}

func TestStreetNeverDoublesTheNumber(t *testing.T) {
	for _, tc := range []struct {
		a               Address
		street, nr, box string
	}{
		{Address{StreetName: "Rue Haute", Street1: "Rue Haute 12", HouseNr: "12"}, "Rue Haute", "12", ""},
		{Address{Street1: "Rue Haute 12", HouseNr: "12"}, "Rue Haute", "12", ""},
		{Address{Street1: "Rue Haute 12/3", HouseNr: "12", HouseBox: "3"}, "Rue Haute", "12", "3"},
		{Address{Street1: "Rue Haute 12 bte 3", HouseNr: "12", HouseBox: "3"}, "Rue Haute", "12", "3"},
		{Address{Street1: "Rue Haute 12", HouseNr: ""}, "Rue Haute 12", "", ""},
		{Address{Street1: "Rue Haute", HouseNr: "12"}, "Rue Haute", "12", ""},
		{Address{Street1: "12 Rue Haute", HouseNr: "12"}, "12 Rue Haute", "", ""},
	} {
		s, n, b := tc.a.street()
		if s != tc.street || n != tc.nr || b != tc.box {
			t.Errorf("%+v: %q %q %q, want %q %q %q", tc.a, s, n, b, tc.street, tc.nr, tc.box)
		}
	}
}

// TestCallsArePacedToTheRateLimit: RateLimit 60 a minute spaces the calls
// 1.05 s apart (the SDK's 63-second window), the token call included; a
// throttled 403 waits a minute; 204 and 404 "Nothing found" are empty.
func TestCallsArePacedToTheRateLimit(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/token/"):
			fmt.Fprint(w, `{"TokenGuid":"g","TimeToLive":"2999-01-01T00:00:00"}`)
		case r.URL.Path == "/api/v1/apisettings":
			fmt.Fprint(w, `{"DefaultRecordsPerPage":10,"MaxRecordsPerPage":100,"DurationToken":20,"RateLimit":60}`)
		case calls == 3:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"ErrorMessage":"You are throttling the system"}`)
		case r.URL.Path == "/api/v1/customers":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"ErrorMessage":"Nothing found"}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "k", nil)
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }
	var waits []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		now = now.Add(d)
		return nil
	}
	if _, err := c.Settings(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []Customer
	for _, path := range []string{"/api/v1/customers", "/api/v1/customeraddresses"} {
		found, _, err := c.get(context.Background(), path, &out)
		if err != nil || found {
			t.Fatalf("%s: found %v, %v", path, found, err)
		}
	}
	// token, settings: no limit known yet; call 3 throttled: a minute;
	// its retry and the next call: 1.05 s after the one before.
	want := []time.Duration{1050 * time.Millisecond, time.Minute, 1050 * time.Millisecond}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
}
