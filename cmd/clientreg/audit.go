package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/postgres"
	"github.com/clientreg/clientreg/projections"
)

const auditUsage = `usage:
  clientreg audit client ID|EMAIL --tenant NAME [--json]
  clientreg audit import LABEL|ID --tenant NAME [--json]
  clientreg audit events --tenant NAME [--since TIME] [--type T[,T]] [--actor A] [--json]`

// auditCommand prints timelines and the event feed: a table on a
// terminal, one JSON object per line with --json.
func auditCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	what, args := args[0], args[1:]
	fs := flag.NewFlagSet("audit "+what, flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant name")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	since := fs.String("since", "", "events: only those recorded at or after this time (2026-11-21T10:00:00Z or 2026-11-21)")
	types := fs.String("type", "", "events: only these types, comma-separated")
	actor := fs.String("actor", "", "events: only this actor (token:<id>)")
	subject, err := parseWithOperand(fs, args)
	if err != nil {
		return err
	}
	if *tenant == "" || (subject == "") != (what == "events") {
		return errors.New(auditUsage)
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
	out := auditPrinter{w: stdout, json: *asJSON}
	switch what {
	case "client":
		id, err := uuid.Parse(subject)
		if err != nil {
			if id, err = svc.Audit.ClientByEmail(ctx, tenantID, subject); err != nil {
				return fmt.Errorf("client %s: %w", subject, err)
			}
		}
		entries, err := svc.Audit.ClientHistory(ctx, tenantID, id)
		if err != nil {
			return err
		}
		return out.history(entries)
	case "import":
		id, err := uuid.Parse(subject)
		if err != nil {
			if id, err = svc.Audit.ImportByLabel(ctx, tenantID, subject); err != nil {
				return fmt.Errorf("import %s: %w", subject, err)
			}
		}
		entries, err := svc.Audit.ImportHistory(ctx, tenantID, id)
		if err != nil {
			return err
		}
		return out.history(entries)
	case "events":
		f := projections.EventFilter{Actor: *actor, Limit: 500}
		if *types != "" {
			f.Types = strings.Split(*types, ",")
		}
		if *since != "" {
			if f.Since, err = parseTime(*since); err != nil {
				return err
			}
		}
		return out.events(ctx, svc.Audit, tenantID, f)
	}
	return errors.New(auditUsage)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: give a time like 2026-11-21T10:00:00Z or a date like 2026-11-21", s)
}

type auditPrinter struct {
	w    io.Writer
	json bool
}

func (p auditPrinter) history(entries []projections.HistoryEntry) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tCAUSE\tWHAT")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Event, e.Actor, causeText(e.Cause), whatText(e))
	}
	return tw.Flush()
}

func (p auditPrinter) events(ctx context.Context, audit *postgres.Audit, tenantID uuid.UUID, f projections.EventFilter) error {
	enc := json.NewEncoder(p.w)
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	if !p.json {
		fmt.Fprintln(tw, "POSITION\tTIME\tEVENT\tSTREAM\tACTOR\tCAUSE")
	}
	for {
		page, err := audit.Events(ctx, tenantID, f)
		if err != nil {
			return err
		}
		for _, e := range page.Items {
			if p.json {
				if err := enc.Encode(e); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\t%s\n", e.Position, e.OccurredAt.Local().Format("2006-01-02 15:04:05"),
				e.Type, e.StreamType, e.StreamID, e.Actor, causeText(e.Cause))
		}
		if len(page.Items) < f.Limit {
			return tw.Flush()
		}
		f.After = page.NextAfter
	}
}

func causeText(c projections.Cause) string {
	switch {
	case c.ImportID != nil && c.Row > 0:
		return fmt.Sprintf("%s %s row %d", c.Kind, labelOr(c), c.Row)
	case c.ImportID != nil:
		return c.Kind + " " + labelOr(c)
	case c.SyncRunID != nil:
		return "sync run " + c.SyncRunID.String()
	}
	return c.Kind
}

func labelOr(c projections.Cause) string {
	if c.ImportLabel != "" {
		return c.ImportLabel
	}
	return c.ImportID.String()
}

// whatText says in one line what an entry changed.
func whatText(e projections.HistoryEntry) string {
	var parts []string
	if e.PersonalData != "" {
		parts = append(parts, "personal data "+e.PersonalData)
	}
	if e.Reason != "" {
		parts = append(parts, "reason: "+e.Reason)
	}
	for _, c := range e.Changes {
		parts = append(parts, fmt.Sprintf("%s: %s -> %s", c.Field, valueText(c.Old), valueText(c.New)))
	}
	if len(e.Data) > 0 {
		parts = append(parts, string(e.Data))
	}
	return strings.Join(parts, "; ")
}

func valueText(v *string) string {
	if v == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", *v)
}

// replayCommand rebuilds read models from the log while serve keeps
// answering from the old ones.
func replayCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	name := fs.String("projection", "all", "projection to rebuild: "+strings.Join(projections.Names(), ", ")+" or all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var todo []projections.Projection
	if *name == "all" {
		todo = projections.All()
	} else {
		p, ok := projections.ByName(*name)
		if !ok {
			return fmt.Errorf("no projection %q: choose one of %s, or all", *name, strings.Join(projections.Names(), ", "))
		}
		todo = []projections.Projection{p}
	}
	svc, err := openService(ctx, "")
	if err != nil {
		return err
	}
	defer svc.Close()
	defer postgres.RaiseGCTargetForReplay()()
	var setAside atomic.Int64
	svc.Rebuilder.OnSetAside = func(postgres.SetAsideEvent) { setAside.Add(1) }
	for _, p := range todo {
		setAside.Store(0)
		var done, total atomic.Int64
		start := time.Now()
		stop := showProgress(ctx, os.Stderr, "events "+p.Name(), func() (int, int, bool) {
			return int(done.Load()), int(total.Load()), true
		})
		err := svc.Rebuilder.Rebuild(ctx, p, func(d, t int64) { done.Store(d); total.Store(t) })
		stop()
		if err != nil {
			return fmt.Errorf("replay %s (run it again to start over): %w", p.Name(), err)
		}
		elapsed := time.Since(start)
		fmt.Fprintf(stdout, "%s: %d events replayed in %s (%.0f events/s), tables swapped\n",
			p.Name(), done.Load(), elapsed.Round(time.Millisecond), float64(done.Load())/elapsed.Seconds())
		if n := setAside.Load(); n > 0 {
			fmt.Fprintf(stdout, "%s: %d events could not be applied and were set aside (clientreg verify lists them)\n", p.Name(), n)
		}
	}
	return nil
}

// errDifferences makes verify exit non-zero.
var errDifferences = errors.New("read models differ from the log")

// verifyCommand folds every stream from the log and compares the read
// models with it.
func verifyCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "only this tenant (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := openService(ctx, "")
	if err != nil {
		return err
	}
	defer svc.Close()
	var tenantID *uuid.UUID
	if *tenant != "" {
		id, err := svc.Tenants.ID(ctx, *tenant)
		if err != nil {
			return err
		}
		tenantID = &id
	}
	if err := svc.Reads.WaitCaughtUp(ctx, 10*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "warning: the projections have not applied the whole log (is serve running?); recent events will show as differences")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tFIELD\tLOG\tREAD MODEL")
	n := 0
	err = svc.Verifier.Verify(ctx, tenantID, func(d postgres.Difference) {
		n++
		fmt.Fprintf(tw, "%s\t%s\t%q\t%q\n", d.Stream, d.Field, d.LogValue, d.ReadModelValue)
	})
	if err != nil {
		return err
	}
	aside, err := svc.Verifier.SetAside(ctx, tenantID)
	if err != nil {
		return err
	}
	if n == 0 && len(aside) == 0 {
		fmt.Fprintln(stdout, "read models match the log")
		return nil
	}
	if n > 0 {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(aside) > 0 {
		fmt.Fprintf(stdout, "%d events set aside: the projections could not apply them\n", len(aside))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECTION\tPOSITION\tEVENT ID\tTYPE\tERROR")
		for _, e := range aside {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Projection, e.Position, e.EventID, e.EventType, e.Error)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: %d differences, %d events set aside (clientreg replay rebuilds the read models)", errDifferences, n, len(aside))
}
