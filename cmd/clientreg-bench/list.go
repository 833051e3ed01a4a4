package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clientreg/clientreg/domain"
)

// listResult is section 5: the client list as the console and the API
// open it, at 100,000 clients (imported) and at a million.
type listResult struct {
	clients int
	cases   []listCase
}

type listCase struct {
	name, query string
	// console: the console's /clients page (HTML rendered by adapters/web,
	// signed in by a session cookie) instead of the API's JSON.
	console bool
	matched int // clients on the first page
	// target is the p99 the case must stay under; 0 for none.
	target time.Duration
	rounds []listRound
}

// listRound is one round's measure of a case.
type listRound struct {
	p50, p99, max time.Duration
	samples       int
}

const (
	// listRounds: every case is measured in each round, the rounds one
	// after the other, so a busy moment of the machine hits one round of
	// several cases rather than every round of one.
	listRounds = 3
	// listBudget bounds the time one case is measured in one round.
	listBudget = 5 * time.Second
)

// p50 and p99 are the medians over rounds; p99s their spread.
func (c *listCase) p50() time.Duration {
	return medianOf(c.rounds, func(r listRound) time.Duration { return r.p50 })
}
func (c *listCase) p99() time.Duration {
	return medianOf(c.rounds, func(r listRound) time.Duration { return r.p99 })
}

func (c *listCase) p99s() (lo, hi time.Duration) {
	lo, hi = c.rounds[0].p99, c.rounds[0].p99
	for _, r := range c.rounds {
		lo, hi = min(lo, r.p99), max(hi, r.p99)
	}
	return lo, hi
}

func medianOf(rs []listRound, f func(listRound) time.Duration) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = f(r)
	}
	return median(ds)
}

var (
	listFirstNames = []string{"Marie", "Jan", "Luc", "Anne", "Pieter", "Sophie", "Tom", "Lea", "Nathalie", "Koen",
		"Isabelle", "Wim", "Julie", "Bart", "Elise", "Thomas"}
	listSurnames = []string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
		"Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Leclercq", "Laurent", "Hermans",
		"Michiels", "Vermeulen", "Van den Broeck", "Aerts", "Lemmens", "Desmet", "Pauwels", "Renard", "Dumont",
		"Stevens", "Verhoeven", "Smets", "Mathieu", "Coppens", "Wuyts", "Segers", "Cools", "Van Damme", "Hendrickx",
		"Lejeune", "Denis", "Baert", "Bogaert", "Nys", "Vandenberghe", "Thys", "Devos", "Declercq", "Verstraete",
		"Wauters", "Gerard", "Noel", "Francois", "Roels", "Collard", "Jansen", "Hubert", "Leroy", "Fontaine",
		"Charlier", "Van Dyck", "Zeegers"}
	listCompanies = []string{"Accountancy", "Bakkerij", "Garage", "Immo", "Consult", "Bouw", "Apotheek", "Transport"}
)

// listRow is row i of the list benchmark's file: persons with common
// Belgian names (each surname shared by ~1/60 of the clients, so a surname
// search matches a run of the list's order), one client in five a company
// (sorted by its name). Each choice is drawn from its own hash of i, so
// first names, surnames and kinds are independent of each other.
func listRow(i int) []string {
	pick := func(salt uint64, n int) int {
		x := uint64(i)*0x9E3779B97F4A7C15 + salt
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 29
		return int(x % uint64(n))
	}
	first, last := listFirstNames[pick(1, len(listFirstNames))], listSurnames[pick(2, len(listSurnames))]
	kind, company := "person", ""
	if pick(3, 5) == 0 {
		kind, company = "company", fmt.Sprintf("%s %s %d", listCompanies[pick(4, len(listCompanies))], last, i)
	}
	return []string{kind, fmt.Sprintf("client%d@big.example", i), first, last, company,
		[]string{"fr", "nl", "en", "de"}[i%4], "Namur"}
}

var listHeader = []string{"kind", "email", "first_name", "last_name", "company_name", "language", "city"}

func writeListCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(listHeader, ";") + "\n")
	for i := range rows {
		w.WriteString(strings.Join(listRow(i), ";") + "\n")
	}
	return errors.Join(w.Flush(), f.Close())
}

// listCases are the requests measured: what the console opens on, what a
// person types, and the extremes of a search (everything, nothing).
func listCases(n int) []listCase {
	return []listCase{
		{name: "first page, no query", query: "limit=50", target: 25 * time.Millisecond},
		{name: "console /clients page (HTML, 50 rows)", console: true, target: 50 * time.Millisecond},
		{name: "page 20, no query (cursor)", query: "limit=50&cursor=", target: 50 * time.Millisecond},
		{name: "q matching every client", query: "limit=50&q=big.example", target: 50 * time.Millisecond},
		{name: "q one email", query: fmt.Sprintf("limit=50&q=client%d@", n/2), target: 50 * time.Millisecond},
		{name: "q a surname (1 in 60, a run of the order)", query: "limit=50&q=vandenberghe", target: 50 * time.Millisecond},
		{name: "q a first name (1 in 16, spread)", query: "limit=50&q=isabelle", target: 50 * time.Millisecond},
		{name: "q first and last name", query: "limit=50&q=marie+peeters", target: 50 * time.Millisecond},
		{name: "q matching nobody", query: "limit=50&q=nobody+here", target: 50 * time.Millisecond},
		{name: "q two letters", query: "limit=50&q=ze", target: 50 * time.Millisecond},
		{name: "deleted clients (none)", query: "limit=50&status=deleted", target: 50 * time.Millisecond},
	}
}

// benchList imports n clients through the import path (the projectors
// write rm_clients as they do for any import), then asks GET /v1/clients
// over loopback HTTP, one request at a time. With grow > n, it then adds
// clients to the same tenant until it holds grow, and asks again.
func benchList(ctx context.Context, dbURL string, n, grow int, logger *slog.Logger) ([]listResult, error) {
	dir, err := os.MkdirTemp("", "clientreg-bench-list-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "clients.csv")
	if err := writeListCSV(path, n); err != nil {
		return nil, err
	}
	b, err := newImportBench(ctx, dbURL, logger)
	if err != nil {
		return nil, err
	}
	defer b.close()
	a, err := b.analyze(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := b.execute(ctx, a.ImportID); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: b.svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	base := "http://" + ln.Addr().String() + "/v1/clients?"
	console := "http://" + ln.Addr().String() + "/clients"
	session, err := b.consoleSession(ctx)
	if err != nil {
		return nil, err
	}

	var out []listResult
	measure := func(clients int) error {
		r := listResult{clients: clients, cases: listCases(n)}
		for i := range r.cases {
			if c := &r.cases[i]; strings.HasSuffix(c.query, "cursor=") {
				cur, err := cursorAfter(ctx, client, base, b.token, 19)
				if err != nil {
					return err
				}
				c.query += url.QueryEscape(cur)
			}
		}
		for round := range listRounds {
			for i := range r.cases {
				c := &r.cases[i]
				u, auth := base+c.query, b.token
				if c.console {
					u, auth = console, session
				}
				if err := c.run(ctx, client, u, auth); err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				last := c.rounds[len(c.rounds)-1]
				fmt.Fprintf(os.Stderr, "list: %d clients, round %d, %s: p50 %s, p99 %s (%d samples)\n",
					clients, round+1, c.name, fmtLatency(last.p50), fmtLatency(last.p99), last.samples)
			}
		}
		out = append(out, r)
		return nil
	}
	if err := measure(n); err != nil {
		return nil, err
	}
	if grow > n {
		fmt.Fprintf(os.Stderr, "list: growing the tenant to %d clients ...\n", grow)
		if err := b.growClients(ctx, n, grow); err != nil {
			return nil, fmt.Errorf("grow to %d clients: %w", grow, err)
		}
		if err := measure(grow); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// growClients copies the imported clients' rows of the read model, under
// new ids and numbers, until the tenant has total clients: the read model
// of a million clients without a million-client import's minutes. Then
// ANALYZE, as autovacuum would do after such a change.
func (b *importBench) growClients(ctx context.Context, n, total int) error {
	for done := n; done < total; {
		k := min(n, total-done)
		_, err := b.svc.Pool.Exec(ctx, `
			INSERT INTO rm_clients (tenant_id, id, version, position, status, kind, first_name, last_name, company_name,
				email, language, city, list_ids, import_ids, origin, created_at, updated_at)
			SELECT tenant_id, gen_random_uuid(), version, position, status, kind, first_name, last_name,
				CASE WHEN company_name = '' THEN '' ELSE company_name || ' ' || $2::int END,
				'c' || $2::int || '.' || email, language, city, list_ids, import_ids, origin, created_at, updated_at
			FROM rm_clients WHERE tenant_id = $1 ORDER BY id LIMIT $3`, b.tenant, done, k)
		if err != nil {
			return err
		}
		done += k
	}
	_, err := b.svc.Pool.Exec(ctx, `ANALYZE rm_clients`)
	return err
}

// cursorAfter follows pages of the list and returns the cursor of the
// pages-th one.
func cursorAfter(ctx context.Context, client *http.Client, base, token string, pages int) (string, error) {
	cur := ""
	for range pages {
		u := base + "limit=50"
		if cur != "" {
			u += "&cursor=" + url.QueryEscape(cur)
		}
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := getJSON(ctx, client, u, token, &page); err != nil {
			return "", err
		}
		if page.NextCursor == "" {
			return "", errors.New("the list ended early")
		}
		cur = page.NextCursor
	}
	return cur, nil
}

// run is one round: it asks u a few times unmeasured, then 100 times
// measured, or for listBudget when that is shorter (a slow case gives
// fewer samples; its p99 is then near its max). auth is the API's bearer
// token, or for the console the session's Cookie header.
func (c *listCase) run(ctx context.Context, client *http.Client, u, auth string) error {
	ask := func() error {
		if !c.console {
			var page struct {
				Items []struct{} `json:"items"`
			}
			err := getJSON(ctx, client, u, auth, &page)
			c.matched = len(page.Items)
			return err
		}
		body, err := get(ctx, client, u, func(req *http.Request) { req.Header.Set("Cookie", auth) })
		c.matched = strings.Count(string(body), `<td><a href="/clients/`)
		return err
	}
	for range 5 {
		if err := ask(); err != nil {
			return err
		}
	}
	var ds []time.Duration
	began := time.Now()
	for len(ds) < 100 && (len(ds) < 20 || time.Since(began) < listBudget) {
		start := time.Now()
		if err := ask(); err != nil {
			return err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	c.rounds = append(c.rounds, listRound{p50: ds[len(ds)/2], p99: ds[len(ds)*99/100], max: ds[len(ds)-1], samples: len(ds)})
	return nil
}

// consoleSession signs a console user of the tenant in and returns the
// Cookie header of their session.
func (b *importBench) consoleSession(ctx context.Context) (string, error) {
	u, _, err := b.svc.Users.Create(ctx, b.tenant, "bench@office.test", domain.RoleEditor)
	if err != nil {
		return "", err
	}
	if err := b.svc.Users.SetPassword(ctx, u.ID, "a long enough password", ""); err != nil {
		return "", err
	}
	token, err := b.svc.Users.StartSession(ctx, u.ID)
	if err != nil {
		return "", err
	}
	return "clientreg_session=" + token, nil
}

func getJSON(ctx context.Context, client *http.Client, u, token string, v any) error {
	body, err := get(ctx, client, u, func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) })
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// get asks for u and returns the body of a 200 answer.
func get(ctx context.Context, client *http.Client, u string, auth func(*http.Request)) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	auth(req)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", u, resp.StatusCode, body)
	}
	return body, nil
}

func printList(w io.Writer, rs []listResult) {
	fmt.Fprintf(w, "6. the client list: GET /v1/clients (and the console's /clients page) over loopback HTTP, one request at a time; %d rounds of every case, each 5 unmeasured, then 100 or %s\n", listRounds, listBudget)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   clients\trequest\tfound\tp50\tp99 (min–max of rounds)\tmax\tsamples\ttarget\tverdict\n")
	for _, r := range rs {
		for _, c := range r.cases {
			target := c.target
			if r.clients > 100_000 && target == 50*time.Millisecond {
				target = 100 * time.Millisecond
			}
			goal := fmt.Sprintf("p99 ≤ %d ms", target/time.Millisecond)
			ok := c.p99() <= target
			if c.name == "first page, no query" {
				goal = "p50 ≤ 10 ms, p99 ≤ 25 ms"
				ok = ok && c.p50() <= 10*time.Millisecond
			}
			lo, hi := c.p99s()
			samples, worst := 0, time.Duration(0)
			for _, r := range c.rounds {
				samples, worst = samples+r.samples, max(worst, r.max)
			}
			fmt.Fprintf(tw, "   %d\t%s\t%d\t%s\t%s (%s–%s)\t%s\t%d\t%s\t%s\n", r.clients, c.name, c.matched,
				fmtLatency(c.p50()), fmtLatency(c.p99()), fmtLatency(lo), fmtLatency(hi), fmtLatency(worst), samples, goal, verdict(ok))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "   p50 and p99 are the medians of the rounds'. The first clients are imported (projectors write them);")
	fmt.Fprintln(w, "   the rest are copies of their rows. docs/list-query-plans.md shows the plans of these requests.")
	fmt.Fprintln(w)
}
