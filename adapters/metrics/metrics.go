// Package metrics is GET /metrics in Prometheus' text format: HTTP latency
// by route, where each projection stands against the log (lag, set-aside
// events), how long imports and syncs took and how they ended, the
// database pool's use, and the Go runtime's and the process's own figures.
// No label holds a tenant, a person or a value: routes are patterns.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clientreg/clientreg/projections"
)

// Sources are what the scrape reads at the moment it asks.
type Sources struct {
	// Projections is where each projection stands against the log.
	Projections func(ctx context.Context) ([]projections.Status, error)
	// Running tells which projectors run.
	Running func() map[string]bool
	// Pool is the database pool's use.
	Pool func() PoolStat
}

// PoolStat is the database pool's use at one moment.
type PoolStat struct {
	Acquired, Idle, Total, Max int32
	Acquires, EmptyAcquires    int64 // since the start: all, and those that waited for a connection
	AcquireWait                time.Duration
}

// Metrics holds the instruments.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	runs     *prometheus.HistogramVec
}

// New registers every instrument; what sources tell is read at each scrape.
func New(src Sources) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "clientreg_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern, method and status code.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method", "code"})
	m.runs = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "clientreg_run_duration_seconds",
		Help:    "Time an import analysis, an import execution or a sync run took, by how it ended.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"kind", "outcome"})
	m.registry.MustRegister(m.requests, m.runs, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &scraped{src: src})
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveRequest records one answered request.
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// Observe records a run: kind import_analysis, import_execution or sync;
// outcome what became of it (analyzed, refused, executed, completed,
// failed...).
func (m *Metrics) Observe(kind, outcome string, took time.Duration) {
	m.runs.WithLabelValues(kind, outcome).Observe(took.Seconds())
}

var (
	lagDesc = prometheus.NewDesc("clientreg_projection_lag_events",
		"Events of the log the projection has not read yet, of its own streams only for one of rare streams (counted up to 100,000).", []string{"projection"}, nil)
	positionDesc = prometheus.NewDesc("clientreg_projection_position",
		"Position in the log the projection has applied up to; for one of rare streams, its last event of them.", []string{"projection"}, nil)
	setAsideDesc = prometheus.NewDesc("clientreg_projection_set_aside_events",
		"Events the projection could not apply and set aside (clientreg verify lists them).", []string{"projection"}, nil)
	runningDesc = prometheus.NewDesc("clientreg_projection_running",
		"1 when the projection's projector runs.", []string{"projection"}, nil)
	headDesc = prometheus.NewDesc("clientreg_log_head_position", "Position of the last event of the log.", nil, nil)
	poolDesc = prometheus.NewDesc("clientreg_db_pool_connections",
		"Database connections of the pool: acquired (in use), idle, total, max.", []string{"state"}, nil)
	acquiresDesc = prometheus.NewDesc("clientreg_db_pool_acquires_total",
		"Connections taken from the pool.", nil, nil)
	emptyDesc = prometheus.NewDesc("clientreg_db_pool_empty_acquires_total",
		"Connections taken from the pool that had to wait for one.", nil, nil)
	waitDesc = prometheus.NewDesc("clientreg_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a connection of the pool.", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("clientreg_projection_status_errors",
		"1 when the projections' positions could not be read at this scrape.", nil, nil)
)

// scraped reads what only the database knows, at each scrape.
type scraped struct{ src Sources }

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lagDesc, positionDesc, setAsideDesc, runningDesc, headDesc, poolDesc,
		acquiresDesc, emptyDesc, waitDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	if s.src.Projections != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		status, err := s.src.Projections(ctx)
		failed := 0.0
		if err != nil {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
		var running map[string]bool
		if s.src.Running != nil {
			running = s.src.Running()
		}
		for i, st := range status {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(st.Lag), st.Name)
			ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(st.Position), st.Name)
			ch <- prometheus.MustNewConstMetric(setAsideDesc, prometheus.GaugeValue, float64(st.Failures), st.Name)
			up := 0.0
			if running[st.Name] {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, up, st.Name)
			if i == 0 {
				ch <- prometheus.MustNewConstMetric(headDesc, prometheus.GaugeValue, float64(st.Head))
			}
		}
	}
	if s.src.Pool != nil {
		p := s.src.Pool()
		for state, n := range map[string]int32{"acquired": p.Acquired, "idle": p.Idle, "total": p.Total, "max": p.Max} {
			ch <- prometheus.MustNewConstMetric(poolDesc, prometheus.GaugeValue, float64(n), state)
		}
		ch <- prometheus.MustNewConstMetric(acquiresDesc, prometheus.CounterValue, float64(p.Acquires))
		ch <- prometheus.MustNewConstMetric(emptyDesc, prometheus.CounterValue, float64(p.EmptyAcquires))
		ch <- prometheus.MustNewConstMetric(waitDesc, prometheus.CounterValue, p.AcquireWait.Seconds())
	}
}
