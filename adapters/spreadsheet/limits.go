package spreadsheet

import (
	"strconv"
	"unicode/utf8"
)

// What a reader holds of a file is bounded, whatever the file holds: a
// 256 KB workbook can unpack to a 250 MB cell or to 550 MB of shared
// strings, a CSV can hold a 49 MB cell. A cell's text is kept up to
// MaxCellBytes, cut on a character; the rest is counted, never kept, and
// Row.Cut reports the cell with the length it had, so the import can name
// it (no client field takes a tenth of that). Every reader, whatever its
// format, goes through these limits: XML text through xmlScanner, a cell
// put together from several pieces through cellBuffer, a row through
// File.Next.
const (
	// MaxCellBytes is how much of a cell's text is kept: 4,000 characters
	// (the longest field, notes) of any script fit.
	MaxCellBytes = 16 << 10
	// MaxRowBytes bounds the text of one row; a row over it refuses the
	// file (a client is a few hundred bytes).
	MaxRowBytes = 1 << 20
	// MaxSharedStringBytes bounds a workbook's table of shared strings,
	// which is held in memory while its sheet is read.
	MaxSharedStringBytes = 64 << 20
	// maxMarkupBytes bounds a tag (its attributes), a comment, a CDATA
	// section or a declaration.
	maxMarkupBytes = 1 << 20
)

// CodeRowTooLarge: a row holds more text than MaxRowBytes.
const CodeRowTooLarge = "row_too_large"

// cellBuffer collects a cell's text, from one piece or several, keeping up
// to MaxCellBytes and counting every character.
type cellBuffer struct {
	b     []byte
	chars int
	cut   bool
}

func (c *cellBuffer) reset() { c.b, c.chars, c.cut = c.b[:0], 0, false }

func (c *cellBuffer) write(p []byte) {
	c.chars += utf8.RuneCount(p)
	if c.cut {
		return
	}
	room := MaxCellBytes - len(c.b)
	if len(p) <= room {
		c.b = append(c.b, p...)
		return
	}
	c.b = append(c.b, p[:runeCut(p, room)]...)
	c.cut = true
}

// dropped counts characters a scanner read but did not keep.
func (c *cellBuffer) dropped(chars int) {
	if chars > 0 {
		c.chars += chars
		c.cut = true
	}
}

// cutChars is the length of a cut cell in characters, 0 when it is whole.
func (c *cellBuffer) cutChars() int {
	if c.cut {
		return c.chars
	}
	return 0
}

// runeCut is the largest n <= limit at which p can be cut between
// characters.
func runeCut(p []byte, limit int) int {
	if limit >= len(p) {
		return len(p)
	}
	n := limit
	for n > 0 && n > limit-utf8.UTFMax && !utf8.RuneStart(p[n]) {
		n--
	}
	return n
}

// countChars counts the characters of UTF-8 text without decoding it.
func countChars(p []byte) int {
	n := 0
	for _, c := range p {
		if !utf8.RuneStart(c) {
			continue
		}
		n++
	}
	return n
}

// cutLog remembers, for rows read ahead, which of their cells were cut.
type cutLog map[int]map[int]int

func (l *cutLog) add(row, col, chars int) {
	if chars == 0 {
		return
	}
	if *l == nil {
		*l = cutLog{}
	}
	if (*l)[row] == nil {
		(*l)[row] = map[int]int{}
	}
	(*l)[row][col] = chars
}

// take returns and forgets the cut cells of a row.
func (l cutLog) take(row int) map[int]int {
	cuts := l[row]
	delete(l, row)
	return cuts
}

// cutter is a row source that cuts cells; File.Next asks it which.
type cutter interface {
	cuts(row int) map[int]int
}

// checkRowSize refuses a row over MaxRowBytes.
func checkRowSize(number int, cells []string) error {
	n := 0
	for _, c := range cells {
		n += len(c)
	}
	if n > MaxRowBytes {
		return rowTooLarge(number)
	}
	return nil
}

func rowTooLarge(number int) error {
	return fileErrRow(CodeRowTooLarge, number, "the row holds more than "+strconv.Itoa(MaxRowBytes>>20)+" MB of text")
}
