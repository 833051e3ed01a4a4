// Command clientreg-bench measures the registry on a real PostgreSQL server
// and prints one table:
//
//  1. register-client over HTTP on loopback: the whole service (API +
//     projectors) on 127.0.0.1:0, N concurrent clients POSTing /v1/clients;
//  2. appending 10,000 events as one batch through the event store, next to
//     pgx CopyFrom of the same rows into a bare table (the ceiling);
//  3. imports (analyze, execute, undo, a big file's memory);
//  4. rebuilding every read model from a log of 1,000,000 events, and a
//     long client's history and as_of, and the dashboard's query;
//  5. syncing from a fake AdminPulse;
//  6. the client list (GET /v1/clients) at 100,000 and 1,000,000 clients;
//  7. hostile uploads: the server's peak RSS for bomb files alone and five
//     at once, next to a plain 50 MB CSV (in a child process);
//  8. the neighbour's import: tenant B's register-to-visible time, idle and
//     while tenant A executes a 100,000-row import.
//
// The server comes from TEST_DATABASE_URL (an admin URL; `make bench` sets
// it), else postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
// Every database the run creates (clientreg_bench_<random>) is dropped WITH
// (FORCE) at the end, also on Ctrl-C.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

type options struct {
	duration     time.Duration
	requests     int
	concurrency  int
	httpRounds   int
	poolMaxConns int
	events       int
	repeat       int
	skipHTTP     bool
	skipAppend   bool
	skipImport   bool
	skipReplay   bool
	skipList     bool
	listClients  int
	listGrow     int
	replayEvents int
	importRows   int
	importRounds int
	bigRows      int
	bigChild     string
	cpuProfile   string
	keep         bool
	verbose      bool
	// sync.go
	skipSync        bool
	syncRelations   int
	syncCallsPerMin int
	adminISPerPage  int
	adminISRate     int
	// hostile.go
	skipHostile  bool
	hostileChild string
	// neighbour.go
	skipNeighbour   bool
	neighbourRounds int
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long the HTTP clients run (ignored when -requests > 0)")
	flag.IntVar(&o.requests, "requests", 0, "send exactly this many requests instead of running for -duration")
	flag.IntVar(&o.concurrency, "concurrency", 50, "concurrent HTTP clients")
	flag.IntVar(&o.httpRounds, "http-rounds", 3, "rounds of the write benchmark (the baseline, then the registry, each round)")
	flag.IntVar(&o.poolMaxConns, "pool-max-conns", 60, "pool_max_conns put in the service's DATABASE_URL (0: leave it to service.New)")
	flag.IntVar(&o.events, "events", 10_000, "events in the one batch of the append benchmark")
	flag.IntVar(&o.repeat, "repeat", 9, "measured repetitions of each append benchmark (the median is reported)")
	flag.BoolVar(&o.skipHTTP, "skip-http", false, "skip the HTTP benchmark")
	flag.BoolVar(&o.skipAppend, "skip-append", false, "skip the append benchmark")
	flag.BoolVar(&o.skipImport, "skip-import", false, "skip the import benchmarks")
	flag.BoolVar(&o.skipReplay, "skip-replay", false, "skip the replay and audit benchmarks")
	flag.BoolVar(&o.skipList, "skip-list", false, "skip the client list benchmark")
	flag.IntVar(&o.listClients, "list-clients", 100_000, "clients imported for the client list benchmark")
	flag.IntVar(&o.listGrow, "list-grow-to", 1_000_000, "clients the list benchmark then grows the tenant to (0 skips it)")
	flag.IntVar(&o.replayEvents, "replay-events", 1_000_000, "events in the log the replay benchmark rebuilds from")
	flag.IntVar(&o.importRows, "import-rows", 100_000, "rows of the import benchmark files")
	flag.IntVar(&o.importRounds, "import-rounds", 3, "rounds of each import benchmark (analyses; execute then undo); the median is reported")
	flag.IntVar(&o.bigRows, "big-import-rows", 1_000_000, "rows of the big-import memory benchmark (0 skips it)")
	flag.StringVar(&o.bigChild, "big-import-child", "", "internal: run the big import against this database URL")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.BoolVar(&o.verbose, "v", false, "log at debug level (the phases of each rebuild, among others)")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases the run creates (their names go to stderr), to look into them afterwards")
	flag.BoolVar(&o.skipSync, "skip-sync", false, "skip the sync benchmark")
	flag.IntVar(&o.syncRelations, "sync-relations", 50_000, "relations of the fake AdminPulse in the sync benchmark")
	flag.IntVar(&o.syncCallsPerMin, "sync-calls-per-minute", 60_000, "AdminPulse call limit in the sync benchmark (the real one is 480)")
	flag.IntVar(&o.adminISPerPage, "adminis-per-page", 500, "MaxRecordsPerPage of the fake Admin IS | Consult (an office's own setting)")
	flag.IntVar(&o.adminISRate, "adminis-rate-limit", 1200, "RateLimit (calls a minute) of the fake Admin IS | Consult, paced as against the real one")
	flag.BoolVar(&o.skipHostile, "skip-hostile", false, "skip the hostile uploads")
	flag.StringVar(&o.hostileChild, "hostile-child", "", "internal: run the hostile uploads against this database URL")
	flag.BoolVar(&o.skipNeighbour, "skip-neighbour", false, "skip the neighbour's import benchmark")
	flag.IntVar(&o.neighbourRounds, "neighbour-rounds", 3, "rounds of the neighbour's import benchmark (each: B idle, then B during A's import of -import-rows rows)")
	flag.Parse()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "clientreg-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	if o.hostileChild != "" {
		if err := hostileChild(context.Background(), o.hostileChild); err != nil {
			fmt.Fprintln(os.Stderr, "clientreg-bench (hostile uploads):", err)
			os.Exit(1)
		}
		return
	}
	if o.bigChild != "" {
		if err := bigImportChild(context.Background(), o.bigChild, o.bigRows); err != nil {
			fmt.Fprintln(os.Stderr, "clientreg-bench (big import):", err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "clientreg-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.concurrency < 1 || o.repeat < 1 || o.events < 1 || o.importRounds < 1 {
		return errors.New("-concurrency, -repeat, -events and -import-rounds must be positive")
	}
	// The service logs warnings and errors only, to stderr; the table goes to stdout.
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	admin := strings.TrimSpace(os.Getenv("TEST_DATABASE_URL"))
	if admin == "" {
		admin = defaultAdminURL
	}
	dbs := &databases{admin: admin}
	if o.keep {
		defer func() { fmt.Fprintf(os.Stderr, "kept databases: %s\n", strings.Join(dbs.names, " ")) }()
	} else {
		defer dbs.dropAll()
	}

	info, err := serverInfo(ctx, admin)
	if err != nil {
		return err
	}

	var (
		httpRes      *writeBench
		appendRes    []appendResult
		importRes    []importResult
		listRes      []listResult
		replayRes    *replayResult
		syncRes      []syncResult
		adminISRes   []syncResult
		adminISCalls int64
		hostileRes   []hostileResult
		neighbourRes *neighbourResult
	)
	// The tables go out at the end, and also when a section fails: what
	// the sections before it measured (half an hour, at full size) stays.
	defer func() {
		printReport(os.Stdout, info, o, httpRes, appendRes)
		if len(importRes) > 0 {
			printImports(os.Stdout, importRes)
		}
		if replayRes != nil {
			printReplay(os.Stdout, replayRes)
		}
		if len(syncRes) > 0 {
			printSync(os.Stdout, syncRes, o.syncCallsPerMin)
		}
		if len(adminISRes) > 0 {
			printAdminIS(os.Stdout, adminISRes, adminISCalls, o.adminISPerPage, o.adminISRate)
		}
		if len(listRes) > 0 {
			printList(os.Stdout, listRes)
		}
		if len(hostileRes) > 0 {
			printHostile(os.Stdout, hostileRes)
		}
		if neighbourRes != nil {
			printNeighbour(os.Stdout, neighbourRes)
		}
	}()

	if !o.skipHTTP {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		crudURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "HTTP: %d clients, %s, %d rounds ...\n", o.concurrency, describeLoad(o), o.httpRounds)
		if httpRes, err = benchWrites(ctx, dbURL, crudURL, o, logger); err != nil {
			return fmt.Errorf("HTTP benchmark: %w", err)
		}
	}

	if !o.skipAppend {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "append: %d events per batch, %d repetitions ...\n", o.events, o.repeat)
		if appendRes, err = benchAppend(ctx, dbURL, o); err != nil {
			return fmt.Errorf("append benchmark: %w", err)
		}
	}

	if !o.skipImport {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "import: %d rows as CSV and XLSX ...\n", o.importRows)
		if importRes, err = benchImports(ctx, dbURL, o.importRows, o.importRounds, logger); err != nil {
			return fmt.Errorf("import benchmark: %w", err)
		}
		if o.bigRows > 0 {
			if dbURL, err = dbs.create(ctx); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "import: %d rows in a child process ...\n", o.bigRows)
			big, err := benchBigImport(ctx, dbURL, o.bigRows)
			if err != nil {
				return fmt.Errorf("big import benchmark: %w", err)
			}
			importRes = append(importRes, big)
		}
	}

	if !o.skipList {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "list: importing %d clients ...\n", o.listClients)
		if listRes, err = benchList(ctx, dbURL, o.listClients, o.listGrow, logger); err != nil {
			return fmt.Errorf("list benchmark: %w", err)
		}
	}

	if !o.skipReplay {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "replay: generating %d events ...\n", o.replayEvents)
		if replayRes, err = benchReplay(ctx, dbURL, o.replayEvents, logger); err != nil {
			return fmt.Errorf("replay benchmark: %w", err)
		}
	}

	if !o.skipSync {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sync: %d relations from a fake AdminPulse, twice ...\n", o.syncRelations)
		if syncRes, err = benchSync(ctx, dbURL, o.syncRelations, o.syncCallsPerMin, logger); err != nil {
			return fmt.Errorf("sync benchmark: %w", err)
		}
	}

	if !o.skipSync {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sync: %d customers from a fake Admin IS | Consult, twice ...\n", o.syncRelations)
		if adminISRes, adminISCalls, err = benchAdminIS(ctx, dbURL, o.syncRelations, o.adminISPerPage, o.adminISRate, logger); err != nil {
			return fmt.Errorf("Admin IS | Consult sync benchmark: %w", err)
		}
	}

	if !o.skipHostile {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "hostile uploads: %d files alone, then 5 at once, in a child process ...\n", len(hostileCases))
		if hostileRes, err = benchHostile(ctx, dbURL); err != nil {
			return err
		}
	}

	if !o.skipNeighbour {
		dbURL, err := dbs.create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "neighbour: %d rounds of a %d-row import in tenant A while tenant B registers ...\n", o.neighbourRounds, o.importRows)
		if neighbourRes, err = benchNeighbour(ctx, dbURL, o.importRows, o.neighbourRounds, logger); err != nil {
			return fmt.Errorf("neighbour benchmark: %w", err)
		}
	}

	return nil
}

func describeLoad(o options) string {
	if o.requests > 0 {
		return fmt.Sprintf("%d requests", o.requests)
	}
	return o.duration.String()
}

type server struct{ version string }

func serverInfo(ctx context.Context, admin string) (server, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin)
	if err != nil {
		return server{}, fmt.Errorf("cannot reach PostgreSQL at %s (set TEST_DATABASE_URL to an admin URL): %w", pgtest.Redact(admin), err)
	}
	defer conn.Close(context.Background())
	var s server
	if err := conn.QueryRow(cctx, `SHOW server_version`).Scan(&s.version); err != nil {
		return server{}, fmt.Errorf("server version: %w", err)
	}
	return s, nil
}

// databases creates the run's scratch databases and drops them all at the end.
type databases struct {
	admin string
	names []string
}

const benchDBPrefix = "clientreg_bench_"

// create makes an empty database; whoever opens it runs migrations.Apply.
func (d *databases) create(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return "", fmt.Errorf("connect admin database: %w", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	name := benchDBPrefix + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	d.names = append(d.names, name)
	return pgtest.WithDatabase(d.admin, name)
}

func (d *databases) dropAll() {
	if len(d.names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clientreg-bench: cannot drop %v: %v\n", d.names, err)
		return
	}
	defer conn.Close(context.Background())
	for _, name := range d.names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "clientreg-bench: drop %s: %v\n", name, err)
		}
	}
	d.names = nil
}

// withPoolMaxConns sets pool_max_conns in a connection string.
func withPoolMaxConns(dbURL string, n int) string {
	if n <= 0 {
		return dbURL
	}
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		if u, err := url.Parse(dbURL); err == nil {
			q := u.Query()
			q.Set("pool_max_conns", fmt.Sprint(n))
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return fmt.Sprintf("%s pool_max_conns=%d", dbURL, n)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func printReport(w *os.File, info server, o options, h *writeBench, as []appendResult) {
	fmt.Fprintf(w, "clientreg bench — PostgreSQL %s, GOMAXPROCS=%d (NumCPU=%d), %s, %s\n\n",
		info.version, runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), time.Now().Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if h != nil {
		printWrites(w, o, h)
	}
	if len(as) > 0 {
		fmt.Fprintf(w, "2. one batch of %d events, median of %d runs (fresh stream each run)\n", o.events, o.repeat)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "   events\tSave median\tSave events/s\tCopyFrom median\tCopyFrom events/s\tstore/CopyFrom\ttarget ≥ 0.33\n")
		for _, a := range as {
			storeRate := float64(o.events) / a.store.Seconds()
			copyRate := float64(o.events) / a.copy.Seconds()
			ratio := storeRate / copyRate
			verdict := "met"
			if ratio < 0.33 {
				verdict = "NOT met"
			}
			fmt.Fprintf(tw, "   %s\t%s\t%.0f\t%s\t%.0f\t%.2f\t%s\n", a.name,
				a.store.Round(time.Millisecond), storeRate, a.copy.Round(time.Millisecond), copyRate, ratio, verdict)
		}
		tw.Flush()
		for _, a := range as {
			fmt.Fprintf(w, "   %s: store runs %v; CopyFrom runs %v\n", a.name, roundAll(a.storeRuns), roundAll(a.copyRuns))
		}
		fmt.Fprintln(w, "   CopyFrom rows are encoded (JSON, AES-GCM) before its clock starts; the store's time includes encoding.")
	}
}

func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
