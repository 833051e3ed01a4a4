package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// fakeAdminIS serves n generated customers with a head office each, as the
// public SDK reads Admin IS | Consult: per_page pages with Link rel="next",
// addresses by "CustomerId in (...)", the change feed by LogId; version 2
// changes the phone of one customer in every, with feed entries above the
// log's head (40,000,000 entries of history).
type fakeAdminIS struct {
	n, perPage, rateLimit, every int
	version                      atomic.Int32
	calls                        atomic.Int64
}

const fakeHead = 40_000_000

var benchIDs = regexp.MustCompile(`CustomerId in \(([0-9, ]*)\)`)
var benchFrom = regexp.MustCompile(`l\.LogId ge (\d+)`)

func (f *fakeAdminIS) phone(i int) string {
	if f.version.Load() > 1 && i%f.every == 0 {
		return fmt.Sprintf("+32 9 %03d %02d %02d", i%1000, i%100, i%97)
	}
	return fmt.Sprintf("+32 2 %03d %02d %02d", i%1000, i%100, i%97)
}

func (f *fakeAdminIS) customer(i int) map[string]any {
	return map[string]any{"CustomerId": i, "Name": fmt.Sprintf("Klant %06d", i), "Firstname": "Jan", "IsCompany": false,
		"IsActive": true, "Email": fmt.Sprintf("klant%06d@example.be", i), "Phone": f.phone(i), "Language": "N", "VATNr": "", "Mobile": ""}
}

func (f *fakeAdminIS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	q := r.URL.Query()
	write := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	per = max(per, 1)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	ids := func() []int {
		var out []int
		if m := benchIDs.FindStringSubmatch(q.Get("Filter")); m != nil {
			for _, s := range strings.Split(m[1], ",") {
				if i, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && i >= 1 && i <= f.n {
					out = append(out, i)
				}
			}
		}
		return out
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/token/"):
		write(map[string]any{"TokenGuid": "bench", "TimeToLive": time.Now().Add(20 * time.Minute).Format(time.RFC3339)})
	case r.URL.Path == "/api/v1/apisettings":
		write(map[string]any{"DefaultRecordsPerPage": 100, "MaxRecordsPerPage": f.perPage, "DurationToken": 20, "RateLimit": f.rateLimit})
	case r.URL.Path == "/api/v1/customers" && q.Get("Filter") != "":
		var out []map[string]any
		for _, i := range ids() {
			out = append(out, f.customer(i))
		}
		write(out)
	case r.URL.Path == "/api/v1/customers":
		var out []map[string]any
		for i := (page-1)*per + 1; i <= f.n && i <= page*per; i++ {
			out = append(out, f.customer(i))
		}
		if page*per < f.n {
			w.Header().Set("Link", fmt.Sprintf(`<%s?per_page=%d&page=%d>; rel="next",`, r.URL.Path, per, page+1))
		}
		write(out)
	case r.URL.Path == "/api/v1/customeraddresses":
		var out []map[string]any
		for _, i := range ids() {
			out = append(out, map[string]any{"CustomerAddressId": i, "CustomerId": i, "RegisteredOffice": true, "Street1": fmt.Sprintf("Kerkstraat %d", i%200+1),
				"StreetName": "Kerkstraat", "HouseNr": strconv.Itoa(i%200 + 1), "HouseBox": "", "ZipCode": "9000", "City": "Gent", "CountryCode": "BE"})
		}
		write(out)
	case r.URL.Path == "/api/v1/customer/changes":
		from := 0
		if m := benchFrom.FindStringSubmatch(q.Get("Filter")); m != nil {
			from, _ = strconv.Atoi(m[1])
		} else {
			write([]map[string]any{{"Id": 1, "OwnId": 1, "TableName": "CUSTOMER", "ActionType": "UPDATE", "LogId": fakeHead}})
			return
		}
		var out []map[string]any
		if f.version.Load() > 1 {
			for i, k := f.every, 0; i <= f.n && len(out) < 1000; i, k = i+f.every, k+1 {
				if id := fakeHead + 1 + k; id >= from && k >= (page-1)*per && k < page*per {
					out = append(out, map[string]any{"Id": i, "OwnId": i, "TableName": "CUSTOMER", "ActionType": "UPDATE", "LogId": id})
				}
			}
			if page*per < f.n/f.every && len(out) == per {
				w.Header().Set("Link", fmt.Sprintf(`<%s?%s&page=%d>; rel="next",`, r.URL.Path, strings.ReplaceAll(r.URL.RawQuery, "&page="+q.Get("page"), ""), page+1))
			}
		}
		if len(out) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		write(out)
	default:
		w.WriteHeader(http.StatusNotFound)
		write(map[string]any{"ErrorMessage": "Nothing found"})
	}
}

// benchAdminIS syncs n customers with addresses from a fake Admin IS |
// Consult into an empty registry at its page size and rate limit, then
// again with 1% changed.
func benchAdminIS(ctx context.Context, dbURL string, n, perPage, rateLimit int, logger *slog.Logger) ([]syncResult, int64, error) {
	fake := &fakeAdminIS{n: n, perPage: perPage, rateLimit: rateLimit, every: 100}
	fake.version.Store(1)
	srv := httptest.NewServer(fake)
	defer srv.Close()

	svc, err := service.New(ctx, service.Config{DatabaseURL: dbURL, MasterKey: []byte("0123456789abcdef0123456789abcdef"), Logger: logger,
		Sources: service.SourcesConfig{AllowHTTPHosts: []string{"127.0.0.1"}}})
	if err != nil {
		return nil, 0, err
	}
	defer svc.Close()
	tenant, _, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		return nil, 0, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		svc.RunWorkers(runCtx)
		close(done)
	}()
	defer func() { stop(); <-done }()

	conn, err := domain.RequestConnection(uuid.New(), domain.ProviderAdminIS, srv.URL)
	if err != nil {
		return nil, 0, err
	}
	origin := domain.Origin{TenantID: tenant, Actor: "bench"}
	if _, err := svc.Connections.Create(ctx, origin, conn, &commands.ConnectionSecrets{APIKey: "bench"}, nil, false); err != nil {
		return nil, 0, err
	}
	var out []syncResult
	for _, step := range []string{fmt.Sprintf("first sync: %d customers with addresses", n), "second sync: 1% changed (change feed)"} {
		if len(out) == 1 {
			fake.version.Store(2)
		}
		r, err := runOnce(ctx, svc, tenant, conn.ID(), step)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, fake.calls.Load(), nil
}

func printAdminIS(w io.Writer, rs []syncResult, calls int64, perPage, rateLimit int) {
	fmt.Fprintf(w, "\n5b. sync from a fake Admin IS | Consult (pages of %d, RateLimit %d calls a minute, paced; %d calls in all)\n",
		perPage, rateLimit, calls)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   run\ttime\tread models +\tclient events\tcreated\tupdated\tunchanged\tremoved\terrors\n")
	for _, r := range rs {
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.name, r.elapsed.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond),
			r.clientEvents, r.counts.Created, r.counts.Updated, r.counts.Unchanged, r.counts.Removed, r.counts.Errors)
	}
	tw.Flush()
}
