package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// importHeader is the 12 columns of the benchmark files.
var importHeader = []string{"email", "first_name", "last_name", "company_name", "display_name", "language",
	"phone", "vat_number", "street", "house_number", "postal_code", "city"}

// importRow is row i of the benchmark files: every value valid, every
// email distinct.
func importRow(i int) []string {
	base := 1_000_000 + i%19_000_000 // the first eight digits; the last two are 97 - base mod 97
	vat := fmt.Sprintf("%08d%02d", base, 97-base%97)
	return []string{fmt.Sprintf("client%d@example.be", i), "Marie", fmt.Sprintf("Dupont %d", i), "Dupont Conseil",
		"Chère Marie", []string{"fr", "nl", "en", "de"}[i%4], "+32 81 22 33 44", vat, "Rue de Fer", strconv.Itoa(1 + i%200),
		"5000", "Namur"}
}

// writeCSV writes the import benchmark's header and rows made by row.
func writeCSV(path string, rows int, row func(i int) []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(importHeader, ";") + "\n")
	for i := range rows {
		w.WriteString(strings.Join(row(i), ";") + "\n")
	}
	return errors.Join(w.Flush(), f.Close())
}

func writeXLSX(path string, rows int) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	cells := func(vals []string) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = v
		}
		return out
	}
	if err := sw.SetRow("A1", cells(importHeader)); err != nil {
		return err
	}
	for i := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, cells(importRow(i))); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

// importResult is one line of the import table.
type importResult struct {
	name    string
	rows    int
	times   []time.Duration // one a round
	peakRSS int64           // bytes, 0 when not measured; the highest of the rounds
	floor   time.Duration   // the COPY of the same file, the median of the rounds
	cpu     []cpuSpent      // one a round, as times
	budget  time.Duration   // the most CPU a round can take and meet the target
	target  string
	verdict string
	notes   []string
}

func (r importResult) median() time.Duration { return median(r.times) }

// medianCPU is the round whose CPU is the median's, and its time.
func (r importResult) medianCPU() (cpuSpent, time.Duration) {
	order := make([]int, len(r.cpu))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(r.cpu[a].total(), r.cpu[b].total()) })
	i := order[len(order)/2]
	return r.cpu[i], r.times[i]
}

// benchImports runs the import benchmarks on one fresh database.
func benchImports(ctx context.Context, dbURL string, rows, rounds int, logger *slog.Logger) ([]importResult, error) {
	dir, err := os.MkdirTemp("", "clientreg-bench-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	csvPath, xlsxPath := filepath.Join(dir, "clients.csv"), filepath.Join(dir, "clients.xlsx")
	if err := writeCSV(csvPath, rows, importRow); err != nil {
		return nil, err
	}
	if err := writeXLSX(xlsxPath, rows); err != nil {
		return nil, err
	}

	b, err := newImportBench(ctx, dbURL, logger)
	if err != nil {
		return nil, err
	}
	defer b.close()
	clock := newCPUClock(ctx, b.svc.Pool)
	var out []importResult

	// Issue 20's targets; each step runs rounds times and reports its median.
	for _, f := range []struct {
		name, path, target string
		rate               float64
	}{{"analyze CSV", csvPath, "≥ 250,000 rows/s", 250_000}, {"analyze XLSX", xlsxPath, "≥ 50,000 rows/s", 50_000}} {
		r := importResult{name: f.name, rows: rows, target: f.target,
			budget: cpuBudget(time.Duration(float64(rows) / f.rate * float64(time.Second)))}
		for range rounds {
			resetPeakRSS()
			start, cpu := time.Now(), clock.read()
			if _, err := b.analyze(ctx, f.path); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			r.times = append(r.times, time.Since(start))
			r.cpu = append(r.cpu, clock.since(cpu))
			r.peakRSS = max(r.peakRSS, peakRSS())
		}
		r.verdict = verdict(float64(rows)/r.median().Seconds() >= f.rate)
		out = append(out, r)
	}

	exec := importResult{name: "execute CSV (until read models caught up)", rows: rows, target: "≤ 40 × COPY"}
	undo := importResult{name: "undo that import (until read models caught up)", rows: rows, target: "≤ 5 s", budget: cpuBudget(5 * time.Second)}
	var floors []time.Duration
	for round := range rounds {
		floor, err := copyFloor(ctx, b.svc, csvPath)
		if err != nil {
			return nil, fmt.Errorf("COPY floor: %w", err)
		}
		floors = append(floors, floor)
		a, err := b.analyze(ctx, csvPath)
		if err != nil {
			return nil, err
		}
		resetPeakRSS()
		start, cpu := time.Now(), clock.read()
		if err := b.execute(ctx, a.ImportID); err != nil {
			return nil, err
		}
		exec.times = append(exec.times, time.Since(start))
		exec.cpu = append(exec.cpu, clock.since(cpu))
		exec.peakRSS = max(exec.peakRSS, peakRSS())
		exec.notes = append(exec.notes, fmt.Sprintf("round %d: %s", round+1, split(start, b.written)))

		start, cpu = time.Now(), clock.read()
		if err := b.undo(ctx, a.ImportID); err != nil {
			return nil, err
		}
		undo.times = append(undo.times, time.Since(start))
		undo.cpu = append(undo.cpu, clock.since(cpu))
		undo.notes = append(undo.notes, fmt.Sprintf("round %d: %s", round+1, split(start, b.written)))
	}
	exec.floor = median(floors)
	exec.budget = cpuBudget(40 * exec.floor)
	exec.verdict = verdict(exec.median() <= 40*exec.floor)
	undo.verdict = verdict(undo.median() <= 5*time.Second)
	return append(out, exec, undo), nil
}

// split says how much of a step was writing the events and how much the
// read models catching up.
func split(start, written time.Time) string {
	return fmt.Sprintf("events written after %s, read models caught up %s later",
		written.Sub(start).Round(time.Millisecond), time.Since(written).Round(time.Millisecond))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// importBench is a running service (projectors and import worker) with a tenant.
type importBench struct {
	svc    *service.Service
	tenant uuid.UUID
	token  string // the tenant's admin API token
	origin domain.Origin
	stop   context.CancelFunc
	done   chan struct{}
	// written is when the last command's events were committed, before
	// the read models caught up.
	written time.Time
}

func newImportBench(ctx context.Context, dbURL string, logger *slog.Logger) (*importBench, error) {
	svc, err := service.New(ctx, service.Config{DatabaseURL: dbURL, MasterKey: []byte("0123456789abcdef0123456789abcdef"), Logger: logger})
	if err != nil {
		return nil, err
	}
	tenant, token, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		svc.Close()
		return nil, err
	}
	if err := svc.Imports.SetLimits(ctx, tenant, commands.ImportLimits{MaxRows: 10_000_000, MaxBytes: 4 << 30}); err != nil {
		svc.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	b := &importBench{svc: svc, tenant: tenant, token: token, origin: domain.Origin{TenantID: tenant, Actor: "bench"}, stop: stop, done: make(chan struct{})}
	go func() {
		svc.RunWorkers(runCtx)
		close(b.done)
	}()
	return b, nil
}

func (b *importBench) close() {
	b.stop()
	<-b.done
	b.svc.Close()
}

func (b *importBench) analyze(ctx context.Context, path string) (commands.Analysis, error) {
	f, err := os.Open(path)
	if err != nil {
		return commands.Analysis{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return commands.Analysis{}, err
	}
	a, err := b.svc.ImportCmds.Analyze.Handle(ctx, commands.AnalyzeImport{Origin: b.origin,
		File: commands.StoredFile{Name: filepath.Base(path), Size: info.Size(), Content: f}})
	if err == nil && a.Event.Summary.Invalid > 0 {
		err = fmt.Errorf("%d invalid rows in the benchmark file", a.Event.Summary.Invalid)
	}
	return a, err
}

// execute queues the import, waits for the worker, then for the read models.
func (b *importBench) execute(ctx context.Context, id uuid.UUID) error {
	if _, err := b.svc.ImportCmds.Execute.Handle(ctx, commands.ExecuteImport{Origin: b.origin, ImportID: id}); err != nil {
		return err
	}
	for {
		imp := domain.NewImport(id)
		if err := b.svc.Store.Load(ctx, b.tenant, imp); err != nil {
			return err
		}
		switch imp.Status() {
		case domain.ImportStatusExecuted:
			b.written = time.Now()
			return b.caughtUp(ctx)
		case domain.ImportStatusFailed:
			return errors.New("import failed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *importBench) undo(ctx context.Context, id uuid.UUID) error {
	if _, err := b.svc.ImportCmds.Undo.Handle(ctx, commands.UndoImport{Origin: b.origin, ImportID: id}); err != nil {
		return err
	}
	b.written = time.Now()
	return b.caughtUp(ctx)
}

// caughtUp waits until every projection has applied the tenant's last event.
func (b *importBench) caughtUp(ctx context.Context) error {
	var head int64
	if err := b.svc.Pool.QueryRow(ctx, `SELECT "offset" FROM events WHERE tenant_id = $1 ORDER BY "offset" DESC LIMIT 1`, b.tenant).Scan(&head); err != nil {
		return err
	}
	return b.svc.Reads.WaitForPosition(ctx, b.tenant, head, projections.Names(), 10*time.Minute)
}

// copyFloor is PostgreSQL COPY of the same CSV into a plain 12-column table:
// the least any import of this file can cost.
func copyFloor(ctx context.Context, svc *service.Service, path string) (time.Duration, error) {
	cols := make([]string, len(importHeader))
	for i, c := range importHeader {
		cols[i] = c + " text"
	}
	if _, err := svc.Pool.Exec(ctx, `DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (`+strings.Join(cols, ", ")+`)`); err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	conn, err := svc.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	start := time.Now()
	_, err = conn.Conn().PgConn().CopyFrom(ctx, f, `COPY bench_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)`)
	return time.Since(start), err
}

// resetPeakRSS starts a new peak of the resident set (Linux: clear_refs 5).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident set since the last reset (VmHWM).
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// bigImportChild runs in its own process so its peak RSS is its own: it
// analyses and imports a CSV of n rows and prints "rows elapsed peakRSS".
func bigImportChild(ctx context.Context, dbURL string, n int) error {
	dir, err := os.MkdirTemp("", "clientreg-bench-1m-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "clients.csv")
	if err := writeCSV(path, n, importRow); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := newImportBench(ctx, dbURL, logger)
	if err != nil {
		return err
	}
	defer b.close()
	resetPeakRSS()
	start := time.Now()
	a, err := b.analyze(ctx, path)
	if err != nil {
		return err
	}
	if err := b.execute(ctx, a.ImportID); err != nil {
		return err
	}
	fmt.Printf("%d %d %d\n", n, time.Since(start), peakRSS())
	return nil
}

// benchBigImport runs bigImportChild in a child process and reads its result.
func benchBigImport(ctx context.Context, dbURL string, n int) (importResult, error) {
	cmd := exec.CommandContext(ctx, os.Args[0], "-big-import-child", dbURL, "-big-import-rows", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return importResult{}, fmt.Errorf("child: %w", err)
	}
	var rows int
	var elapsed time.Duration
	var rss int64
	if _, err := fmt.Sscan(string(out), &rows, &elapsed, &rss); err != nil {
		return importResult{}, fmt.Errorf("child said %q: %w", out, err)
	}
	r := importResult{name: "analyze + import a big CSV (own process)", rows: rows, times: []time.Duration{elapsed}, peakRSS: rss, target: "peak RSS < 300 MB"}
	r.verdict = verdict(rss < 300<<20)
	return r, nil
}

func printImports(w io.Writer, rs []importResult) {
	fmt.Fprintf(w, "3. bulk import (12-column rows, all valid; service with projectors and import worker running)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   benchmark\trows\trounds\ttime (median)\tmin–max\trows/s\tpeak RSS\tCOPY floor\tratio\ttarget\tverdict\n")
	for _, r := range rs {
		rss, floor, ratio := "-", "-", "-"
		if r.peakRSS > 0 {
			rss = fmt.Sprintf("%d MB", r.peakRSS>>20)
		}
		m := r.median()
		if r.floor > 0 {
			floor = r.floor.Round(time.Millisecond).String()
			ratio = fmt.Sprintf("%.1f×", m.Seconds()/r.floor.Seconds())
		}
		fmt.Fprintf(tw, "   %s\t%d\t%d\t%s\t%s–%s\t%.0f\t%s\t%s\t%s\t%s\t%s\n", r.name, r.rows, len(r.times), m.Round(time.Millisecond),
			slices.Min(r.times).Round(time.Millisecond), slices.Max(r.times).Round(time.Millisecond),
			float64(r.rows)/m.Seconds(), rss, floor, ratio, r.target, r.verdict)
	}
	tw.Flush()
	for _, r := range rs {
		for _, n := range r.notes {
			fmt.Fprintf(w, "   %s, %s\n", r.name, n)
		}
	}
	fmt.Fprintln(w, "   peak RSS is the benchmark process's VmHWM during that step (reset before it), service and projectors included.")
	printCPU(w, rs)
	fmt.Fprintln(w)
}

// printCPU sets the CPU each step took beside the most it could take and
// meet its target.
func printCPU(w io.Writer, rs []importResult) {
	fmt.Fprintf(w, "   CPU of the median round, beside the most a round can use and meet its target (%d cores busy all along):\n", runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   step\tCPU\tcores busy\tat most, to meet the target\n")
	for _, r := range rs {
		if len(r.cpu) == 0 {
			continue // the big import runs in a child process, measured by its memory
		}
		spent, took := r.medianCPU()
		fmt.Fprintf(tw, "   %s\t%s\t%.2f\t%.1f s\n", r.name, spent, spent.total().Seconds()/took.Seconds(), r.budget.Seconds())
	}
	tw.Flush()
	fmt.Fprintln(w, "   CPU is the user and system time of this process (the service) and of the PostgreSQL server's processes (all its databases') during the step.")
}
