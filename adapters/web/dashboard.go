package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// dashboardData is the dashboard: counts drawn as bar charts, the last
// imports and the integrations' last runs.
type dashboardData struct {
	Total      int64
	Active     int64
	ByStatus   template.HTML
	ByOrigin   template.HTML
	ByLanguage template.HTML
	ByList     template.HTML
	Months     template.HTML
	Imports    []importRow
	Syncs      []*integration
}

func (c *Console) dashboardPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	stats, err := c.Reads.Stats(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "dashboard", "nav.dashboard", nil)
	d := &dashboardData{Total: stats.Clients.Total, Active: stats.Clients.ByStatus["active"]}
	d.ByStatus = hbars(p.T("dashboard.by_status"), counted(stats.Clients.ByStatus, func(k string) string { return p.T("status.one_" + k) }))
	d.ByOrigin = hbars(p.T("dashboard.by_origin"), counted(stats.Clients.ByOrigin, func(k string) string { return originWords(p, k) }))
	d.ByLanguage = hbars(p.T("dashboard.by_language"), counted(stats.Clients.ByLanguage, func(k string) string {
		if k == "" {
			return p.T("dashboard.no_language")
		}
		return k
	}))
	var lists []bar
	for _, l := range stats.Clients.ByList {
		lists = append(lists, bar{l.Name, l.Clients})
	}
	d.ByList = hbars(p.T("dashboard.by_list"), lists)
	d.Months = columns(p.T("dashboard.imports_by_month"), p.T("dashboard.rows_imported"), stats.Imports)
	page, err := c.Reads.Imports(r.Context(), u.TenantID, projections.ImportFilter{Limit: 5})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	people := c.people(r)
	for _, v := range page.Items {
		d.Imports = append(d.Imports, importRow{ImportView: v, Who: actorWords(p, people, v.Actor), Counts: executedCounts(v)})
	}
	if c.Conns != nil && p.Can(domain.RoleAdmin) {
		items, err := c.integrations(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, it := range items {
			if it.Conn != nil {
				d.Syncs = append(d.Syncs, it)
			}
		}
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "dashboard", p)
}

func originWords(p *page, k string) string {
	switch {
	case k == "manual":
		return p.T("client.manual")
	case k == "import":
		return p.T("nav.imports")
	case hasMessage("source." + k):
		return p.T("source." + k)
	}
	return k
}

type bar struct {
	Label string
	Value int64
}

// counted turns a count map into bars, largest first.
func counted(m map[string]int64, label func(string) string) []bar {
	out := make([]bar, 0, len(m))
	for k, v := range m {
		out = append(out, bar{label(k), v})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// hbars draws horizontal bars with their label and value written out, so
// the chart reads without colour (and to a screen reader, as a list).
func hbars(title string, bars []bar) template.HTML {
	if len(bars) > 8 {
		bars = bars[:8]
	}
	const width, labelW, rowH = 340, 120, 26
	var max int64 = 1
	for _, b := range bars {
		max = maxInt(max, b.Value)
	}
	if len(bars) == 0 {
		return template.HTML(`<p class="muted">—</p>`)
	}
	h := rowH*len(bars) + 4
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, width, h, esc(title))
	for i, b := range bars {
		y := i*rowH + 2
		w := int(float64(width-labelW-60) * float64(b.Value) / float64(max))
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-label" text-anchor="end">%s</text>`, labelW-8, y+17, esc(truncate(b.Label, 22)))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" class="chart-bar"><title>%s: %d</title></rect>`,
			labelW, y+4, maxI(w, 2), rowH-10, esc(b.Label), b.Value)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-value">%d</text>`, labelW+maxI(w, 2)+6, y+17, b.Value)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // built from escaped labels and numbers only
}

// columns draws the imports of the last months as columns, the rows they
// created and updated written on top.
func columns(title, unit string, months []projections.ImportMonth) template.HTML {
	if len(months) > 12 {
		months = months[len(months)-12:]
	}
	const width, height, base = 560, 180, 150
	var max int64 = 1
	for _, m := range months {
		max = maxInt(max, m.RowsCreated+m.RowsUpdated)
	}
	if len(months) == 0 {
		return template.HTML(`<p class="muted">—</p>`)
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart chart-months" viewBox="0 0 %d %d" role="img" aria-label="%s (%s)">`, width, height, esc(title), esc(unit))
	slot := width / maxI(len(months), 6)
	fmt.Fprintf(&s, `<line x1="0" y1="%d" x2="%d" y2="%d" class="chart-axis"/>`, base, width, base)
	for i, m := range months {
		v := m.RowsCreated + m.RowsUpdated
		h := int(float64(base-30) * float64(v) / float64(max))
		x := i*slot + slot/4
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" class="chart-bar"><title>%s: %d</title></rect>`,
			x, base-maxI(h, 2), slot/2, maxI(h, 2), esc(m.Month), v)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-value" text-anchor="middle">%d</text>`, x+slot/4, base-maxI(h, 2)-6, v)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-label" text-anchor="middle">%s</text>`, x+slot/4, base+18, esc(m.Month))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // built from escaped labels and numbers only
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func maxI(a, b int) int {
	if a > b {
		return a
	}
	return b
}
