package service_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// go test ./adapters/service/ -run XXX -bench AnalyzeCSV -benchmem -benchtime 5x

// BenchmarkAnalyzeCSV100k is the "analyze CSV" row of make bench (section
// 3) alone: a 100,000-row, 12-column file (5,000 rows under -short), every
// row valid and new, analysed by the command the API runs, which also
// stores the file and the analysis.
func BenchmarkAnalyzeCSV100k(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	ctx := context.Background()
	svc, err := service.New(ctx, service.Config{DatabaseURL: pgtest.NewDatabaseURL(b),
		MasterKey: []byte("0123456789abcdef0123456789abcdef"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	tenant, _, err := svc.Tenants.Create(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Imports.SetLimits(ctx, tenant, commands.ImportLimits{MaxRows: 10_000_000, MaxBytes: 4 << 30}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "clients.csv")
	if err := writeBenchCSV(path, n); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	origin := domain.Origin{TenantID: tenant, Actor: "bench"}
	// The machine is shared: the CPU time this process spends is steadier
	// than the elapsed time.
	cpu0 := cpuTime(b)
	for b.Loop() {
		a, err := svc.ImportCmds.Analyze.Handle(ctx, commands.AnalyzeImport{Origin: origin,
			File: commands.StoredFile{Name: "clients.csv", Size: info.Size(), Content: f}})
		if err != nil {
			b.Fatal(err)
		}
		if s := a.Event.Summary; s.Rows != n || s.ToCreate != n {
			b.Fatalf("summary %+v, want %d rows to create", s, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeBenchCSV writes the rows of cmd/clientreg-bench's import files.
func writeBenchCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("email;first_name;last_name;company_name;display_name;language;phone;vat_number;street;house_number;postal_code;city\n")
	for i := range rows {
		base := 1_000_000 + i%19_000_000
		row := []string{fmt.Sprintf("client%d@example.be", i), "Marie", fmt.Sprintf("Dupont %d", i), "Dupont Conseil",
			"Chère Marie", []string{"fr", "nl", "en", "de"}[i%4], "+32 81 22 33 44", fmt.Sprintf("%08d%02d", base, 97-base%97),
			"Rue de Fer", strconv.Itoa(1 + i%200), "5000", "Namur"}
		w.WriteString(strings.Join(row, ";") + "\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
