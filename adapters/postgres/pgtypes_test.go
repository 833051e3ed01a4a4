package postgres

import (
	"bytes"
	"context"
	"slices"
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

// text[] and bytea[] parameters handed over as textArray and byteaArray
// read back as they were: values, a NULL element, an empty array and a
// NULL array.
func TestTypedArraysGoToTheDatabaseAsTheyAre(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	texts := textArray{"email", "", "Zoë\x01"}
	blobs := byteaArray{{0, 1, 2}, nil, {}}
	var gotTexts []string
	var gotBlobs [][]byte
	var nulls int
	var empty, null bool
	if err := conn.QueryRow(ctx, `SELECT $1::text[], $2::bytea[], array_position($2::bytea[], NULL),
		cardinality($3::text[]) = 0 AND cardinality($4::bytea[]) = 0, $5::text[] IS NULL AND $6::bytea[] IS NULL`,
		texts, blobs, textArray{}, byteaArray{}, textArray(nil), byteaArray(nil)).Scan(&gotTexts, &gotBlobs, &nulls, &empty, &null); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotTexts, texts) {
		t.Errorf("text[] read back %q, wrote %q", gotTexts, texts)
	}
	if len(gotBlobs) != 3 || !bytes.Equal(gotBlobs[0], blobs[0]) || gotBlobs[1] != nil || gotBlobs[2] == nil || len(gotBlobs[2]) != 0 || nulls != 2 {
		t.Errorf("bytea[] read back %v (NULL at %d), wrote %v", gotBlobs, nulls, blobs)
	}
	if !empty || !null {
		t.Errorf("empty arrays read back empty: %v; nil arrays read back NULL: %v", empty, null)
	}
}
