package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// TestFileWithoutHeaderKeepsItsFirstRow: a file without a header row, its
// columns mapped by letter, imports its first row too, at upload and when
// mapped again; a header-less file stays so when one column is remapped.
func TestFileWithoutHeaderKeepsItsFirstRow(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := a.tenant("acme")[domain.RoleAdmin]
	file := []byte("Anna;Peeters;anna@example.be\nBram;Claes;bram@example.be\n")
	byLetter := map[string]string{"A": "first_name", "B": "last_name", "C": "email"}

	// Nothing recognisable: refused for its mapping, the file kept.
	refused := a.upload(admin, "people.csv", file).expect(t, http.StatusUnprocessableEntity)
	if refused.errorCode() != "no_email_column" {
		t.Fatalf("upload %s", refused.raw)
	}
	path := "/v1/imports/" + refused.str("error", "details", "import_id") + "/mapping"
	an := a.do("POST", path, admin, map[string]any{"no_header": true, "mapping": byLetter}).expect(t, http.StatusOK)
	if an.str("summary", "rows") != "2" || an.str("summary", "to_create") != "2" || an.body["detected"].(map[string]any)["header"] != false {
		t.Fatalf("mapped without a header: %s", an.raw)
	}
	// One column changed: still no header, still two rows.
	an = a.do("POST", path, admin, map[string]any{"mapping": map[string]string{"A": "first_name", "B": "ignore", "C": "email"}}).expect(t, http.StatusOK)
	if an.str("summary", "rows") != "2" || an.str("detected", "header_row") != "0" {
		t.Fatalf("remapped: %s", an.raw)
	}
	done := a.execute(admin, an.str("id"), map[string]any{})
	if done.str("counts", "created") != "2" {
		t.Fatalf("execution %s", done.raw)
	}
	clients := a.do("GET", "/v1/clients?q=anna&min_position="+done.str("position"), admin, nil).expect(t, 200).items()
	if len(clients) != 1 || field(clients[0], "email") != "anna@example.be" || field(clients[0], "last_name") != "" {
		t.Fatalf("the first row imported as %v", clients)
	}

	// Said at upload.
	up := a.upload(admin, "people.csv", file, "no_header", "true", "mapping", `{"A":"first_name","B":"last_name","C":"email"}`).expect(t, http.StatusCreated)
	if up.str("summary", "rows") != "2" {
		t.Fatalf("upload without a header: %s", up.raw)
	}
	// Two columns for one field, both ways of naming the header, a word
	// that is not a boolean: refused, naming what.
	two := a.do("POST", "/v1/imports/"+up.str("id")+"/mapping", admin, map[string]any{"mapping": map[string]string{"A": "email", "C": "email"}}).
		expect(t, http.StatusUnprocessableEntity)
	if two.errorCode() != "validation_failed" || !strings.Contains(two.raw, "duplicate_mapping") {
		t.Fatalf("two columns for the email: %s", two.raw)
	}
	both := a.do("POST", "/v1/imports/"+up.str("id")+"/mapping", admin, map[string]any{"no_header": true, "header_row": 2}).
		expect(t, http.StatusUnprocessableEntity)
	if both.errorCode() != "validation_failed" {
		t.Fatalf("no_header with header_row: %s", both.raw)
	}
	if bad := a.upload(admin, "people.csv", file, "no_header", "maybe").expect(t, http.StatusBadRequest); bad.errorCode() != "invalid_no_header" {
		t.Fatalf("no_header=maybe: %s", bad.raw)
	}
}
