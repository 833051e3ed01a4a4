package adminpulse

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientreg/clientreg/commands"
)

// TestCallsAreSpacedToTheLimit: 480 calls a minute is one call every
// 125 ms; a run never sends them faster, and a 429 waits Retry-After.
func TestCallsAreSpacedToTheLimit(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": []any{map[string]any{"id": 1, "name": "A", "email": "a@example.be"}},
			"currentPage": 0, "pageCount": 3, "pageSize": PageSize, "totalRowCount": 3})
	}))
	defer srv.Close()
	p := NewPuller(Config{APIBaseURL: srv.URL}, nil,
		commands.ConnectionSecrets{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil)
	now := time.Unix(1_000_000, 0)
	p.now = func() time.Time { return now }
	var waits []time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		now = now.Add(d)
		return nil
	}
	for _, cur := range []string{"", "1", "2"} {
		page, err := p.Next(context.Background(), cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 || page.Records[0].ExternalID != "1" {
			t.Fatalf("records %v", page.Records)
		}
		if cur == "2" && (!page.Last || !page.ListingEnd || page.Cursor != "") {
			t.Fatalf("last page %+v", page)
		}
	}
	// Call 1 at once; call 2 waits 125 ms, gets 429, waits 7 s; call 3 (its
	// retry) comes after; call 4 waits 125 ms.
	want := []time.Duration{125 * time.Millisecond, 7 * time.Second, 125 * time.Millisecond}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
}
