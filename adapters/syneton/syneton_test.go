package syneton

import (
	"encoding/json"
	"net/http"
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
