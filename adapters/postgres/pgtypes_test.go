package postgres

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
)

// Ids written through the binary UUID plan read back the same, alone, in
// arrays and as text.
func TestUUIDsGoToTheDatabaseAsTheyAre(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := AfterConnect(ctx, conn); err != nil {
		t.Fatal(err)
	}
	ids := []uuid.UUID{uuid.New(), uuid.Nil, uuid.MustParse("01234567-89ab-cdef-0123-456789abcdef")}
	var one uuid.UUID
	var many []uuid.UUID
	var text string
	if err := conn.QueryRow(ctx, `SELECT $1::uuid, $2::uuid[], ($2::uuid[])[3]::text`, ids[0], ids).Scan(&one, &many, &text); err != nil {
		t.Fatal(err)
	}
	if one != ids[0] || len(many) != 3 || many[0] != ids[0] || many[1] != uuid.Nil || many[2] != ids[2] || text != ids[2].String() {
		t.Errorf("read back %v %v %s, wrote %v", one, many, text, ids)
	}
}
