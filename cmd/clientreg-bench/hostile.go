package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/adapters/spreadsheet/spreadsheettest"
	"github.com/clientreg/clientreg/commands"
)

// hostileCase is one file uploaded in the "hostile uploads" section.
type hostileCase struct {
	name, file string
	make       func() []byte
}

// hostileCases: a plain 50 MB CSV to compare with, then the bombs the
// hardening issue met (sizes as reported there).
var hostileCases = []hostileCase{
	{"plain CSV, 50 MB", "plain.csv", func() []byte { return spreadsheettest.PlainCSV(50 << 20) }},
	{"CSV with one 49 MB cell", "cell.csv", func() []byte { return spreadsheettest.HugeCellCSV(49 << 20) }},
	{"XLSX, one 250 MB cell written in the sheet", "inline.xlsx", func() []byte { return spreadsheettest.InlineCellXLSX(250 << 20) }},
	{"XLSX, one 250 MB shared string", "shared.xlsx", func() []byte { return spreadsheettest.SharedCellXLSX(250 << 20) }},
	{"XLSX, 550 MB of shared strings", "sst.xlsx", func() []byte { return spreadsheettest.SharedStringsBombXLSX(1_100_000, 500) }},
}

// hostileResult is one line of the section.
type hostileResult struct {
	name    string
	size    int64 // bytes uploaded
	status  string
	elapsed time.Duration
	peakRSS int64
	target  int64
}

// benchHostile runs the uploads in a child process, so that the peak RSS
// is the server's for those uploads alone, not what earlier sections left.
func benchHostile(ctx context.Context, dbURL string) ([]hostileResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-hostile-child", dbURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("hostile uploads: %w", err)
	}
	var rs []hostileResult
	if err := json.Unmarshal(out, &rs); err != nil {
		return nil, fmt.Errorf("hostile uploads: %w (%q)", err, out)
	}
	return rs, nil
}

// hostileChild serves the registry on loopback and uploads each file,
// then five bombs at once; it prints the results as JSON.
func hostileChild(ctx context.Context, dbURL string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := service.New(ctx, service.Config{DatabaseURL: dbURL, MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: logger, MaxAnalyses: 5})
	if err != nil {
		return err
	}
	defer svc.Close()
	tenant, token, err := svc.Tenants.Create(ctx, "hostile")
	if err != nil {
		return err
	}
	if err := svc.Imports.SetLimits(ctx, tenant, commands.ImportLimits{MaxRows: 10_000_000, MaxBytes: 100 << 20}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(runCtx, ln) }()
	defer func() { stop(); <-served }()
	base := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "clientreg-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sizes := map[string]int64{}
	for _, c := range hostileCases {
		data := c.make()
		sizes[c.file] = int64(len(data))
		if err := os.WriteFile(filepath.Join(dir, c.file), data, 0o600); err != nil {
			return err
		}
	}
	measure := func(name string, target int64, files ...string) hostileResult {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		start := time.Now()
		statuses := make([]string, len(files))
		var wg sync.WaitGroup
		var size int64
		for i, f := range files {
			size += sizes[f]
			wg.Go(func() { statuses[i] = upload(base, token, filepath.Join(dir, f)) })
		}
		wg.Wait()
		return hostileResult{name: name, size: size, status: strings.Join(dedupe(statuses), ", "), elapsed: time.Since(start),
			peakRSS: peakRSS(), target: target}
	}
	var rs []hostileResult
	for _, c := range hostileCases {
		rs = append(rs, measure(c.name, 300<<20, c.file))
	}
	var bombs []string
	for _, c := range hostileCases[1:] {
		bombs = append(bombs, c.file)
	}
	rs = append(rs, measure("the four bombs and the 49 MB cell once more: 5 at once", 600<<20, append(bombs, "cell.csv")...))
	return json.NewEncoder(os.Stdout).Encode(toJSON(rs))
}

// upload posts a file for analysis, streamed from disk, and returns the
// status and error code of the answer.
func upload(base, token, path string) string {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		f, err := os.Open(path)
		if err == nil {
			var part io.Writer
			if part, err = mw.CreateFormFile("file", filepath.Base(path)); err == nil {
				_, err = io.Copy(part, bufio.NewReader(f))
			}
			f.Close()
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/v1/imports", pr)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	code := body.Error.Code
	if code == "" && len(body.Errors) > 0 {
		code = "row " + body.Errors[0].Code
	}
	return strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + code)
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type hostileJSON struct {
	Name    string
	Size    int64
	Status  string
	Elapsed time.Duration
	PeakRSS int64
	Target  int64
}

func toJSON(rs []hostileResult) []hostileJSON {
	out := make([]hostileJSON, len(rs))
	for i, r := range rs {
		out[i] = hostileJSON{r.name, r.size, r.status, r.elapsed, r.peakRSS, r.target}
	}
	return out
}

func (r *hostileResult) UnmarshalJSON(b []byte) error {
	var j hostileJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = hostileResult{j.Name, j.Size, j.Status, j.Elapsed, j.PeakRSS, j.Target}
	return nil
}

func printHostile(w io.Writer, rs []hostileResult) {
	fmt.Fprintf(w, "\n7. hostile uploads (POST /v1/imports over HTTP, the server in a process of its own)\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "   upload\tsize\tanswer\ttime\tpeak RSS\ttarget\tverdict\n")
	for _, r := range rs {
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%d MB\t< %d MB\t%s\n", r.name, humanSize(r.size), r.status,
			r.elapsed.Round(10*time.Millisecond), r.peakRSS>>20, r.target>>20, verdict(r.peakRSS < r.target))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "   peak RSS is the server process's VmHWM during the upload(s), reset before each line; files are streamed from disk.")
}

func humanSize(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}
