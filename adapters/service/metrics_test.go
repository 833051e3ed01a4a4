package service_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// TestMetrics: GET /metrics answers in Prometheus' text format with the
// latency of each route, where the projections stand, the runs of
// imports, the database pool, and no personal data.
func TestMetrics(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tokens := a.tenant("metered")
	reg := a.do("POST", "/v1/clients", tokens[domain.RoleEditor], marie("metered.person@example.be")).expect(t, 201)
	a.do("GET", "/v1/clients/"+reg.str("id")+"?min_position="+reg.str("position"), tokens[domain.RoleEditor], nil).expect(t, 200)
	a.upload(tokens[domain.RoleAdmin], "m.csv", []byte("email;language\nm@example.be;fr\n")).expect(t, 201)
	a.do("GET", "/v1/nowhere", tokens[domain.RoleEditor], nil).expect(t, 404)

	resp, err := http.Get(a.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	text := string(raw)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`clientreg_http_request_duration_seconds_count{code="201",method="POST",route="/v1/clients"} 1`,
		`clientreg_http_request_duration_seconds_count{code="200",method="GET",route="/v1/clients/{id}"} 1`,
		`clientreg_http_request_duration_seconds_count{code="404",method="GET",route="/v1/*"} 1`, // a pattern, never the path asked for,
		`clientreg_projection_lag_events{projection="clients"}`,
		`clientreg_projection_set_aside_events{projection="clients"} 0`,
		`clientreg_projection_running{projection="lists"} 1`,
		`clientreg_log_head_position`,
		`clientreg_run_duration_seconds_count{kind="import_analysis",outcome="analyzed"} 1`,
		`clientreg_db_pool_connections{state="max"}`,
		`clientreg_db_pool_acquires_total`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)

		}
	}
	if strings.Contains(text, "metered.person") || strings.Contains(text, reg.str("id")) {
		t.Error("/metrics shows an email or a client id")
	}
}
