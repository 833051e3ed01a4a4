package spreadsheet

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clientreg/clientreg/adapters/spreadsheet/spreadsheettest"
)

// readAll reads every row of data and returns the rows, the cut cells of
// each, the error that stopped it and how many bytes reading allocated.
func readAll(t *testing.T, data []byte, name string) (rows []Row, cuts []map[int]int, err error, allocated uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := Open(bytes.NewReader(data), int64(len(data)), name, Options{})
	if err == nil {
		for {
			var r Row
			if r, err = f.Next(); err != nil {
				break
			}
			rows, cuts = append(rows, r), append(cuts, f.Cut())
		}
		f.Close()
	}
	runtime.ReadMemStats(&after)
	if err == io.EOF {
		err = nil
	}
	return rows, cuts, err, after.TotalAlloc - before.TotalAlloc
}

// TestHugeCellsAreCountedNotHeld: a 20 MB cell, whether in a CSV, written
// in a sheet (XLSX or ODS) or in the shared strings, is kept to MaxCellBytes and its
// length counted; reading it allocates a small part of it.
func TestHugeCellsAreCountedNotHeld(t *testing.T) {
	const n = 20 << 20
	for name, data := range map[string][]byte{
		"cell.csv":    spreadsheettest.HugeCellCSV(n),
		"inline.xlsx": spreadsheettest.InlineCellXLSX(n),
		"shared.xlsx": spreadsheettest.SharedCellXLSX(n),
		"inline.ods":  spreadsheettest.InlineCellODS(n),
	} {
		rows, cuts, err, allocated := readAll(t, data, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) != 2 || rows[1].Cells[0] != "bomb@example.be" || rows[1].Cells[1] != strings.Repeat("x", MaxCellBytes) {
			t.Errorf("%s: rows %d, cell of %d bytes", name, len(rows), len(rows[len(rows)-1].Cells[len(rows[len(rows)-1].Cells)-1]))
		}
		if len(cuts) != 2 || cuts[0] != nil || cuts[1][1] != n || len(cuts[1]) != 1 {
			t.Errorf("%s: cut cells %v; want column 1 of row 2, %d characters", name, cuts, n)
		}
		if allocated > 8<<20 { // the race detector's own allocations included
			t.Errorf("%s: reading a %d MB cell allocated %d MB", name, n>>20, allocated>>20)
		}
	}
}

func TestSharedStringsBombIsRefused(t *testing.T) {
	data := spreadsheettest.SharedStringsBombXLSX(200_000, 500) // 100 MB of shared text
	if len(data) > 1<<20 {
		t.Fatalf("the bomb is %d KB", len(data)>>10)
	}
	_, _, err, allocated := readAll(t, data, "bomb.xlsx")
	wantFileError(t, err, CodeWorkbookTooLarge, 0)
	if allocated > 3*MaxSharedStringBytes/2 {
		t.Errorf("refusing the bomb allocated %d MB", allocated>>20)
	}
}

func TestRowTooLargeIsRefused(t *testing.T) {
	cell := strings.Repeat("w", MaxCellBytes)
	var csv strings.Builder
	csv.WriteString("email;notes\na@example.be;ok\nb@example.be")
	for range MaxRowBytes/MaxCellBytes + 1 {
		csv.WriteString(";" + cell)
	}
	csv.WriteString("\n")
	_, _, err, _ := readAll(t, []byte(csv.String()), "wide.csv")
	wantFileError(t, err, CodeRowTooLarge, -1)

	rows := spreadsheettest.ManyCellsXLSX(3, MaxCellBytes)
	if _, _, err, _ := readAll(t, rows, "many.xlsx"); err != nil {
		t.Fatalf("rows of one long cell each: %v", err)
	}
}

// TestExternalEntitiesAreNotRead: a sheet that declares an entity naming
// a file of the server is refused, and nothing of the file is read.
func TestExternalEntitiesAreNotRead(t *testing.T) {
	rows, _, err, _ := readAll(t, spreadsheettest.XXEXLSX(), "xxe.xlsx")
	wantFileError(t, err, CodeCorruptWorkbook, -1)
	for _, r := range rows {
		if strings.Contains(strings.Join(r.Cells, ";"), "root:") {
			t.Fatal("the file named by the entity was read")
		}
	}
}

// TestCSVCapKeepsFieldsAndQuotes: cutting never changes where fields and
// records end, nor what short fields hold.
func TestCSVCapKeepsFieldsAndQuotes(t *testing.T) {
	long := strings.Repeat("é", MaxCellBytes) // two bytes each
	quoted := `"` + strings.Repeat(`a""`, MaxCellBytes) + `"`
	text := "h1;h2;h3\n\n" + long + ";\"x;y\";z\n" + quoted + ";\"p\nq\";r\n;;last"
	rows, cuts, err, _ := readAll(t, []byte(text), "cap.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1].Number != 3 || rows[1].Cells[1] != "x;y" || rows[1].Cells[2] != "z" ||
		rows[2].Cells[1] != "p\nq" || rows[2].Cells[2] != "r" || rows[3].Number != 5 || rows[3].Cells[2] != "last" {
		t.Fatalf("rows %q", fmtRows(rows))
	}
	if len(rows[1].Cells[0]) != MaxCellBytes || cuts[1][0] != MaxCellBytes || len(cuts[1]) != 1 {
		t.Errorf("long cell kept %d bytes, cut %v", len(rows[1].Cells[0]), cuts[1])
	}
	if !strings.HasPrefix(rows[2].Cells[0], `a"a"`) || cuts[2][0] != 2*MaxCellBytes || len(cuts[2]) != 1 {
		t.Errorf("quoted cell %.10q…, cut %v", rows[2].Cells[0], cuts[2])
	}
}

// TestCSVCapRunsReadAsByteByByte: handing out runs of plain text at once
// gives what stepping through every byte gives, cuts included, for text
// of quotes, delimiters (one byte and several), line breaks, accents and
// cells on either side of MaxCellBytes, read in any size of pieces.
func TestCSVCapRunsReadAsByteByByte(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "bc", "é", "€", ";", "¦", "\"", "\"\"", "\n", "\r\n", " "}
	for round := range 300 {
		var text strings.Builder
		for text.Len() < 200 {
			if rng.IntN(40) == 0 {
				text.WriteString(strings.Repeat(pieces[rng.IntN(4)], MaxCellBytes/2+rng.IntN(MaxCellBytes)))
			}
			text.WriteString(pieces[rng.IntN(len(pieces))])
		}
		delim := []rune{';', '¦'}[round%2]
		ref := newCSVCap(nil, delim)
		for _, b := range []byte(text.String()) {
			ref.step(b)
		}
		ref.flushDelimiter()
		ref.endField()

		got := newCSVCap(iotest.HalfReader(strings.NewReader(text.String())), delim)
		if round%3 == 0 {
			got = newCSVCap(iotest.OneByteReader(strings.NewReader(text.String())), delim)
		}
		out, err := io.ReadAll(got)
		if err != nil && !errors.Is(err, errRowTooLarge) {
			t.Fatal(err)
		}
		if err == nil && (!bytes.Equal(out, ref.out) || !reflect.DeepEqual(got.cuts, ref.cuts)) {
			t.Fatalf("round %d (%q…): read %d bytes, cuts %v; byte by byte %d bytes, cuts %v",
				round, text.String()[:40], len(out), got.cuts, len(ref.out), ref.cuts)
		}
	}
}
