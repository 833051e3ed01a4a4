package service_test

import (
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// lastNames is the last name of each client of a page, in order.
func lastNames(r response) string {
	var out []string
	for _, it := range r.items() {
		out = append(out, it["last_name"].(string))
	}
	return strings.Join(out, ",")
}

// TestClientListSortOverHTTP: GET /v1/clients pages in the console's
// orders, by name either way and by the last change either way; an order
// it does not know is a 400 that names the parameter.
func TestClientListSortOverHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]
	ids := map[string]string{}
	for i, last := range []string{"Maes", "Jacobs", "Peeters"} {
		ids[last] = a.do("POST", "/v1/clients", tok, map[string]any{"first_name": "An", "last_name": last,
			"email": strings.ToLower(last) + "@example.be", "language": []string{"nl", "fr", "en"}[i]}).expect(t, 201).str("id")
	}
	// Jacobs is changed last.
	changed := a.do("PATCH", "/v1/clients/"+ids["Jacobs"], tok, map[string]any{"phone": "+32 2 555 01 02"}, "If-Match", `"1"`).expect(t, 200)
	at := "&min_position=" + changed.str("position")
	for sort, want := range map[string]string{
		"":         "Jacobs,Maes,Peeters",
		"name":     "Jacobs,Maes,Peeters",
		"-name":    "Peeters,Maes,Jacobs",
		"-updated": "Jacobs,Peeters,Maes",
		"updated":  "Maes,Peeters,Jacobs",
	} {
		if got := lastNames(a.do("GET", "/v1/clients?sort="+sort+at, tok, nil).expect(t, 200)); got != want {
			t.Errorf("sort=%q: %s, want %s", sort, got, want)
		}
	}
	// A page goes on in the order it began in.
	first := a.do("GET", "/v1/clients?sort=-name&limit=2"+at, tok, nil).expect(t, 200)
	next := a.do("GET", "/v1/clients?sort=-name&limit=2&cursor="+first.str("next_cursor"), tok, nil).expect(t, 200)
	if lastNames(first)+"|"+lastNames(next) != "Peeters,Maes|Jacobs" {
		t.Fatalf("pages by -name: %s | %s", first.raw, next.raw)
	}
	if code := a.do("GET", "/v1/clients?sort=name&cursor="+first.str("next_cursor"), tok, nil).expect(t, 400).errorCode(); code != "invalid_cursor" {
		t.Fatalf("a -name cursor with sort=name: %s", code)
	}
	bad := a.do("GET", "/v1/clients?sort=email", tok, nil).expect(t, 400)
	if bad.errorCode() != "invalid_sort" || !strings.Contains(bad.str("error", "message"), "sort must be one of name, -name, -updated, updated") {
		t.Fatalf("unknown sort: %s", bad.raw)
	}
}

// TestClientListAccessFilterOverHTTP: GET /v1/clients?access= lists the
// clients at one app access status, as the console's filter does; an
// unknown status is a 400 that names the parameter.
func TestClientListAccessFilterOverHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	tok := a.tenant("acme")[domain.RoleEditor]
	var ids []string
	for _, last := range []string{"Maes", "Jacobs", "Peeters"} {
		ids = append(ids, a.do("POST", "/v1/clients", tok, map[string]any{"first_name": "An", "last_name": last,
			"email": strings.ToLower(last) + "@example.be"}).expect(t, 201).str("id"))
	}
	a.do("POST", "/v1/clients/"+ids[0]+"/invite", tok, nil).expect(t, 200)
	a.do("POST", "/v1/clients/"+ids[2]+"/invite", tok, nil).expect(t, 200)
	at := "&min_position=" + a.head()
	for access, want := range map[string]string{
		"invited":     "Maes,Peeters",
		"not_invited": "Jacobs",
		"validated":   "",
		"":            "Jacobs,Maes,Peeters",
	} {
		if got := lastNames(a.do("GET", "/v1/clients?access="+access+at, tok, nil).expect(t, 200)); got != want {
			t.Errorf("access=%q: %s, want %s", access, got, want)
		}
	}
	bad := a.do("GET", "/v1/clients?access=maybe", tok, nil).expect(t, 400)
	if bad.errorCode() != "invalid_access" || !strings.HasPrefix(bad.str("error", "message"), "access must be") {
		t.Fatalf("unknown access: %s", bad.raw)
	}
}
