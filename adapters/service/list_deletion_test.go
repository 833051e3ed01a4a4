package service_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// A newsletter sender replaces a base: the list goes with the clients that
// were there only for it; the others stay, each with its reason. Restoring
// the list (once) brings back those nothing touched since.
func TestListDeletedWithItsClientsAndRestored(t *testing.T) {
	t.Parallel()
	a, _ := startSyncApp(t, nil)
	toks := a.tenant("office")
	admin, editor := toks[domain.RoleAdmin], toks[domain.RoleEditor]

	base := a.do("POST", "/v1/lists", editor, map[string]any{"name": "Newsletter 2025"}).expect(t, 201).str("id")
	vip := a.do("POST", "/v1/lists", editor, map[string]any{"name": "VIP"}).expect(t, 201).str("id")
	person := func(name string) string {
		return a.do("POST", "/v1/clients", editor, map[string]any{"first_name": name, "last_name": "Test",
			"email": strings.ToLower(name) + "@example.be"}).expect(t, 201).str("id")
	}
	join := func(client, list string) {
		a.do("PUT", "/v1/clients/"+client+"/lists/"+list, editor, nil).expect(t, 200)
	}

	only, reader, untouchedLater, takenLater := person("Ann"), person("Bert"), person("Fien"), person("Gert")
	edited := person("Carl")
	person("Eva") // on no list: the list's deletion does not concern her
	for _, id := range []string{only, reader, untouchedLater, takenLater, edited} {
		join(id, base)
	}
	join(reader, vip)
	a.do("PATCH", "/v1/clients/"+edited, editor, map[string]any{"phone": "+32 9 222 33 44"}, "If-Match", "2").expect(t, 200)
	conn := a.do("POST", "/v1/connections", admin, map[string]any{"provider": "erp"}).expect(t, 201)
	erp := a.push("PUT", conn.str("id"), "K-1", conn.str("secret"), "", map[string]any{
		"first_name": "Dirk", "last_name": "Erp", "email": "dirk@example.be"}).expect(t, 200).str("client_id")
	join(erp, base)

	a.do("DELETE", "/v1/lists/"+base, editor, map[string]any{"delete_clients": true}).expect(t, 403)
	deleted := a.do("DELETE", "/v1/lists/"+base, admin, map[string]any{"delete_clients": true}).expect(t, 200)
	if got := deleted.str("deleted_clients"); got != "3" {
		t.Fatalf("deleted_clients = %s, want 3: %s", got, deleted.raw)
	}
	if got, want := keptReasons(deleted), map[string]string{
		reader: domain.KeptOnOtherList, edited: domain.KeptEditedSince, erp: domain.KeptLinkedToSource,
	}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	status := func(email string) string {
		t.Helper()
		got := a.findByEmail(editor, email)
		if len(got) != 1 {
			t.Fatalf("%s: %d clients", email, len(got))
		}
		return fmt.Sprint(got[0]["status"])
	}
	for email, want := range map[string]string{"ann@example.be": "deleted", "fien@example.be": "deleted", "gert@example.be": "deleted",
		"bert@example.be": "active", "carl@example.be": "active", "dirk@example.be": "active", "eva@example.be": "active"} {
		if got := status(email); got != want {
			t.Errorf("after deleting the list, %s is %s, want %s", email, got, want)
		}
	}
	if history := a.do("GET", "/v1/clients/"+only+"/history", editor, nil).expect(t, 200).raw; !strings.Contains(history, `"kind":"list_deleted","list_id":"`+base+`"`) {
		t.Errorf("Ann's timeline does not say the list took her: %s", history)
	}
	for _, l := range a.do("GET", "/v1/lists?min_position="+a.head(), editor, nil).expect(t, 200).items() {
		if l["id"] == base {
			t.Fatalf("the deleted list is still listed: %v", l)
		}
	}

	// Meanwhile: Fien is restored by hand and edited; Gert's email goes to a newcomer.
	a.do("POST", "/v1/clients/"+untouchedLater+"/restore", editor, nil).expect(t, 200)
	a.do("PATCH", "/v1/clients/"+untouchedLater, editor, map[string]any{"phone": "+32 9 111 11 11"}, "If-Match", "4").expect(t, 200)
	a.do("POST", "/v1/clients", editor, map[string]any{"first_name": "Gert", "last_name": "Nieuw", "email": "gert@example.be"}).expect(t, 201)

	a.do("POST", "/v1/lists/"+base+"/restore", editor, nil).expect(t, 403)
	restored := a.do("POST", "/v1/lists/"+base+"/restore", admin, nil).expect(t, 200)
	if got := restored.str("restored_clients"); got != "1" {
		t.Fatalf("restored_clients = %s, want 1: %s", got, restored.raw)
	}
	if got, want := keptReasons(restored), map[string]string{
		untouchedLater: domain.KeptChangedSince, takenLater: domain.KeptEmailTaken,
	}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kept on restore %v, want %v", got, want)
	}
	if got := status("ann@example.be"); got != "active" {
		t.Errorf("Ann after the restore: %s", got)
	}
	var members string
	for _, l := range a.do("GET", "/v1/lists?min_position="+a.head(), editor, nil).expect(t, 200).items() {
		if l["id"] == base {
			members = fmt.Sprint(l["members"])
		}
	}
	// Ann (back), Bert, Carl, Dirk and Fien (restored by hand) are on it again; Gert stays deleted.
	if members != "5" {
		t.Errorf("the restored list has %s members, want 5", members)
	}
	if code := a.do("POST", "/v1/lists/"+base+"/restore", admin, nil).expect(t, 409).errorCode(); code != "list_not_deleted" {
		t.Errorf("restoring a live list: %s", code)
	}
	a.do("DELETE", "/v1/lists/"+base, admin, nil).expect(t, 200)
	if code := a.do("POST", "/v1/lists/"+base+"/restore", admin, nil).expect(t, 409).errorCode(); code != "list_restored_before" {
		t.Errorf("restoring a second time: %s", code)
	}
	a.verify()
}

func keptReasons(r response) map[string]string {
	kept, _ := r.body["kept"].([]any)
	out := map[string]string{}
	for _, k := range kept {
		m, _ := k.(map[string]any)
		out[fmt.Sprint(m["client_id"])] = fmt.Sprint(m["reason"])
	}
	return out
}

// "Update my list from this file": an import with list_mode replace leaves
// the list holding exactly the file's clients, reports those it took off,
// and its undo puts them back.
func TestImportReplacesAListsMembers(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	toks := a.tenant("office")
	admin, editor := toks[domain.RoleAdmin], toks[domain.RoleEditor]
	list := a.do("POST", "/v1/lists", editor, map[string]any{"name": "Nieuwsbrief"}).expect(t, 201).str("id")
	onList := map[string]string{}
	for _, name := range []string{"Ann", "Bert"} {
		id := a.do("POST", "/v1/clients", editor, map[string]any{"first_name": name, "last_name": "Oud",
			"email": strings.ToLower(name) + "@example.be"}).expect(t, 201).str("id")
		a.do("PUT", "/v1/clients/"+id+"/lists/"+list, editor, nil).expect(t, 200)
		onList[name] = id
	}
	members := func() []string {
		t.Helper()
		var emails []string
		for _, c := range a.do("GET", "/v1/clients?list="+list+"&min_position="+a.head(), editor, nil).expect(t, 200).items() {
			emails = append(emails, fmt.Sprint(c["email"]))
		}
		sort.Strings(emails)
		return emails
	}

	csv := "first_name;last_name;email\nBert;Oud;bert@example.be\nCarl;Nieuw;carl@example.be\n"
	id := a.upload(editor, "nieuwsbrief.csv", []byte(csv)).expect(t, 201).str("id")
	if refused := a.do("POST", "/v1/imports/"+id+"/execute", admin, map[string]any{"list_mode": "replace"}).expect(t, 422); !strings.Contains(refused.raw, "lists_required") {
		t.Fatalf("list_mode replace without lists: %s", refused.raw)
	}
	done := a.execute(admin, id, map[string]any{"lists": []any{list}, "list_mode": "replace"})
	if done.str("status") != "executed" || done.str("list_mode") != "replace" || done.str("counts", "taken_off_lists") != "1" {
		t.Fatalf("import: %s", done.raw)
	}
	if off := done.list("taken_off"); len(off) != 1 || fmt.Sprint(off[0]["client_id"]) != onList["Ann"] || fmt.Sprint(off[0]["list_id"]) != list {
		t.Fatalf("taken off: %v", off)
	}
	if got := fmt.Sprint(members()); got != "[bert@example.be carl@example.be]" {
		t.Fatalf("after the replacing import the list holds %s", got)
	}

	undone := a.do("POST", "/v1/imports/"+id+"/undo", admin, nil).expect(t, 200)
	if undone.str("undo", "deleted") != "1" {
		t.Fatalf("undo: %s", undone.raw)
	}
	if got := fmt.Sprint(members()); got != "[ann@example.be bert@example.be]" {
		t.Fatalf("after the undo the list holds %s", got)
	}
	a.verify()
}
