package commands

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

type sliceRows struct {
	rows []FileRow
	at   int
}

func (s *sliceRows) Next() (FileRow, error) {
	if s.at == len(s.rows) {
		return FileRow{}, io.EOF
	}
	s.at++
	return s.rows[s.at-1], nil
}

func (s *sliceRows) Close() error { return nil }

// Rows read into the details maps of rows handed back hold their own
// details only: a value an earlier row had where this one has none is
// gone. Six chunks are enough for some to be read into handed-back maps
// whatever the scheduling: the reader cannot start on chunk 5 before the
// caller has handed back chunk 1.
func TestRowScannerReusesDetailsMapsEmptied(t *testing.T) {
	m := testMapping(t, domain.LayoutClients, "email", "phone", "city")
	want := func(i int) map[domain.Field]string {
		d := map[domain.Field]string{domain.FieldEmail: fmt.Sprintf("c%d@example.be", i)}
		switch i % 3 { // a chunk is not a multiple of 3 rows: a map goes to a row unlike its last
		case 0:
			d[domain.FieldPhone] = "+32 81 22 33 44"
		case 1:
			d[domain.FieldCity] = "Namur"
		}
		return d
	}
	const n = 6*importChunk + 10
	var rows []FileRow
	for i := range n {
		d := want(i)
		rows = append(rows, FileRow{Number: i + 2, Cells: []string{d[domain.FieldEmail], d[domain.FieldPhone], d[domain.FieldCity]}})
	}
	s := &rowScanner{rows: &sliceRows{rows: rows}, mapping: m}
	defer s.close()
	handedBack := map[uintptr]bool{}
	read, reused := 0, 0
	for {
		chunk, _, err := s.readChunk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var done []map[domain.Field]string
		for _, r := range chunk {
			if w := want(r.Number - 2); !maps.Equal(r.Client.Details, w) {
				t.Fatalf("row %d: details %v, want %v", r.Number, r.Client.Details, w)
			}
			if handedBack[reflect.ValueOf(r.Client.Details).Pointer()] {
				reused++
			}
			done = append(done, r.Client.Details)
			read++
		}
		for _, d := range done {
			handedBack[reflect.ValueOf(d).Pointer()] = true
		}
		s.recycle(done)
	}
	if read != n || reused == 0 {
		t.Errorf("read %d rows, %d into a handed-back map; want %d, some", read, reused, n)
	}
}
