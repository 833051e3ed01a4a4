package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/adapters/service"
	"github.com/clientreg/clientreg/domain"
)

// A registry started with another master key than its database was first
// used with refuses to start: with the new key it would write clients no
// one could read with the old one (and duplicates of existing emails).
func TestAnotherMasterKeyIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	editor := a.tenant("office")[domain.RoleEditor]
	a.do("POST", "/v1/clients", editor, marie("marie@example.be")).expect(t, 201)
	ctx := context.Background()
	url := a.svc.Pool.Config().ConnString()
	events := func() int {
		var n int
		if err := a.svc.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := events()
	open := func(key string) error {
		svc, err := service.New(ctx, service.Config{DatabaseURL: url, MasterKey: []byte(key), Logger: testLogger()})
		if err == nil {
			svc.Close()
		}
		return err
	}
	const otherKey = "another key of thirty-two bytes!"
	if err := open(otherKey); !errors.Is(err, eventlog.ErrWrongMasterKey) {
		t.Fatalf("another key: %v, want ErrWrongMasterKey", err)
	}
	// A database from before the check (sealed data, no check value yet):
	// the wrong key cannot open its data keys and is refused too; the
	// right one is recorded.
	if _, err := a.svc.Pool.Exec(ctx, `DELETE FROM master_key_check`); err != nil {
		t.Fatal(err)
	}
	if err := open(otherKey); !errors.Is(err, eventlog.ErrWrongMasterKey) {
		t.Fatalf("another key on a database without a check value: %v", err)
	}
	if err := open("0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatalf("the right key: %v", err)
	}
	if err := open(otherKey); !errors.Is(err, eventlog.ErrWrongMasterKey) {
		t.Fatalf("another key once the check value is back: %v", err)
	}
	if after := events(); after != before {
		t.Fatalf("%d events appended by refused starts", after-before)
	}
}
