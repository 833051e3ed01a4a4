package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/i18n"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// listFlags collects repeated --list NAME.
type listFlags []string

func (l *listFlags) String() string     { return strings.Join(*l, ",") }
func (l *listFlags) Set(v string) error { *l = append(*l, v); return nil }

// errNothingImported makes the exit status non-zero when no row could be imported.
var errNothingImported = errors.New("nothing could be imported")

// importCommand analyses a file and, unless --dry-run, imports its valid
// rows, with the same report as the API.
func importCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant name")
	dryRun := fs.Bool("dry-run", false, "analyse only: change nothing")
	mode := fs.String("mode", domain.ModeCreateAndUpdate, "create_only or create_and_update")
	lang := fs.String("lang", "en", "language of the messages (en, fr, nl)")
	layout := fs.String("layout", "clients", "clients (one row per client) or contacts (one row per contact person)")
	source := fs.String("source", "", "system the external_id column refers to")
	headerRow := fs.Int("header-row", 0, "row the header is on (default: the best of the first 20 rows)")
	var opts commands.FileOptions
	fs.StringVar(&opts.Format, "format", "", "csv, txt, xlsx, xls or ods (default: detected)")
	fs.StringVar(&opts.Encoding, "encoding", "", "text encoding (default: detected)")
	fs.StringVar(&opts.Delimiter, "delimiter", "", "column delimiter (default: detected)")
	fs.StringVar(&opts.Sheet, "sheet", "", "sheet to read (default: Clients, else the first non-empty)")
	var lists listFlags
	fs.Var(&lists, "list", "put the imported clients on this list (repeatable; created if missing)")
	path, err := parseWithOperand(fs, args)
	if err != nil {
		return err
	}
	if path == "" || *tenant == "" {
		return errors.New("usage: clientreg import FILE --tenant NAME [--dry-run] [--mode ...] [--list NAME] [--lang fr]")
	}
	l, err := domain.ParseLayout(*layout)
	if err != nil {
		return err
	}

	svc, err := openService(ctx, "")
	if err != nil {
		return err
	}
	defer svc.Close()
	tenantID, err := svc.Tenants.ID(ctx, *tenant)
	if err != nil {
		return err
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, file); err != nil {
		return err
	}
	origin := domain.Origin{TenantID: tenantID, Actor: "cli:" + currentUser(), CorrelationID: "cli-import"}
	msgLang := i18n.Lang(*lang, "")

	a, err := svc.ImportCmds.Analyze.Handle(ctx, commands.AnalyzeImport{Origin: origin, Options: opts, Mode: *mode, Language: msgLang,
		File:    commands.StoredFile{Name: info.Name(), Size: info.Size(), SHA256: hex.EncodeToString(hash.Sum(nil)), Content: file},
		Mapping: domain.MappingOptions{Layout: l, Source: *source, HeaderRow: *headerRow}})
	var refused *domain.RefusedError
	if errors.As(err, &refused) {
		return fmt.Errorf("%s", i18n.Message(msgLang, refused.Code, refused.Params))
	}
	if err != nil {
		return err
	}
	printAnalysis(stdout, msgLang, a)
	if *dryRun {
		if a.Event.Summary.Valid == 0 {
			return errNothingImported
		}
		return nil
	}

	refs := make([]domain.ImportListRef, len(lists))
	for i, name := range lists {
		refs[i] = domain.ImportListRef{Name: name}
	}
	if _, err := svc.ImportCmds.Execute.Handle(ctx, commands.ExecuteImport{Origin: origin, ImportID: a.ImportID, Mode: *mode, Lists: refs}); err != nil {
		return err
	}
	stopProgress := showProgress(ctx, stdout, "rows", func() (int, int, bool) {
		p, err := svc.Imports.Progress(ctx, tenantID, a.ImportID)
		if err != nil || p == nil {
			return 0, a.Event.Summary.Rows, false
		}
		return p.Done, p.Total, true
	})
	// This process runs the job itself; a running server may take it first,
	// in which case we wait for its outcome.
	_, runErr := svc.ImportWorker.RunNext(ctx)
	imp, err := waitForImport(ctx, svc.Store, tenantID, a.ImportID)
	stopProgress()
	if err != nil {
		return errors.Join(runErr, err)
	}
	return printExecution(stdout, imp)
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// maxPrintedIssues bounds the issues printed; the API pages through all.
const maxPrintedIssues = 50

func printAnalysis(w io.Writer, lang string, a commands.Analysis) {
	e := a.Event
	fmt.Fprintf(w, "Analysis of %s (%d bytes, SHA-256 %s)\n", e.FileName, e.FileSize, e.FileSHA256)
	fmt.Fprintf(w, "  format %s", e.File.Format)
	if e.File.Encoding != "" {
		fmt.Fprintf(w, ", encoding %s, delimiter %q, line endings %s", e.File.Encoding, e.File.Delimiter, e.File.LineEnding)
	}
	if e.File.Sheet != "" {
		fmt.Fprintf(w, ", sheet %q", e.File.Sheet)
	}
	if e.HeaderRow > 1 {
		fmt.Fprintf(w, ", header on row %d", e.HeaderRow)
	}
	fmt.Fprintln(w)
	for i, key := range e.Columns {
		header := ""
		if i < len(e.Headers) {
			header = e.Headers[i]
		}
		if key == "" {
			key = "(not imported)"
		}
		fmt.Fprintf(w, "  column %-3s %-30q -> %s\n", domain.ColumnLetter(i), header, key)
	}
	s := e.Summary
	fmt.Fprintf(w, "rows %d: valid %d, invalid %d; would create %d, update %d, skip %d; warnings %d\n",
		s.Rows, s.Valid, s.Invalid, s.ToCreate, s.ToUpdate, s.ToSkip, s.Warnings)
	for i, iss := range a.Issues {
		if i == maxPrintedIssues {
			fmt.Fprintf(w, "... and %d more (GET /v1/imports/%s/errors)\n", len(a.Issues)-i, a.ImportID)
			break
		}
		fmt.Fprintf(w, "  row %d %s %s: %s\n", iss.Row, iss.Column, iss.Severity(), i18n.IssueMessage(lang, iss))
	}
	fmt.Fprintf(w, "import id %s\n", a.ImportID)
}

// showProgress draws a progress bar on a terminal, a plain line every few
// seconds otherwise; the returned func stops it.
func showProgress(ctx context.Context, w io.Writer, unit string, read func() (done, total int, ok bool)) func() {
	terminal := isTerminal(w)
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		every := 200 * time.Millisecond
		if !terminal {
			every = 5 * time.Second
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				if terminal {
					fmt.Fprintln(w)
				}
				return
			case <-tick.C:
			}
			done, total, ok := read()
			if !ok || total == 0 {
				continue
			}
			if terminal {
				const width = 30
				filled := width * done / total
				fmt.Fprintf(w, "\r[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total, unit)
			} else {
				fmt.Fprintf(w, "progress: %d/%d %s\n", done, total, unit)
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// waitForImport follows the import's stream until its execution ended.
func waitForImport(ctx context.Context, store commands.EventStore, tenantID, id uuid.UUID) (*domain.Import, error) {
	for {
		imp := domain.NewImport(id)
		if err := store.Load(ctx, tenantID, imp); err != nil {
			return nil, err
		}
		if imp.Status() != domain.ImportStatusRunning {
			return imp, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printExecution(w io.Writer, imp *domain.Import) error {
	if imp.Status() != domain.ImportStatusExecuted {
		return fmt.Errorf("import %s: %s", imp.StreamID(), imp.Status())
	}
	c := imp.Counts()
	fmt.Fprintf(w, "import %s executed: created %d, updated %d, unchanged %d, skipped %d, failed %d\n",
		imp.Label(), c.Created, c.Updated, c.Unchanged, c.Skipped, c.Failed)
	if c.Created+c.Updated+c.Unchanged+c.Skipped == 0 {
		return errNothingImported
	}
	return nil
}
