package spreadsheet

import (
	"errors"
	"io"
	"unicode/utf8"
)

// csvCap passes CSV text through to encoding/csv with every field cut to
// MaxCellBytes, so that a 49 MB cell is never held whole: encoding/csv
// keeps a whole record in memory, and copies it. It follows the quoting
// encoding/csv applies (a quote opens a quoted field only as its first
// byte; "" inside one is a quote), so it finds the same fields; a cut
// quoted field keeps its closing quote. It counts the characters of each
// cut field and remembers them by record (the n-th record encoding/csv
// returns, blank lines not counted) and field. A record over MaxRowBytes
// ends the text with errRowTooLarge.
type csvCap struct {
	r     io.Reader
	delim []byte
	buf   []byte // what was read from r
	out   []byte // what is to be handed out
	spare []byte // out's whole buffer, reused once out is handed out
	err   error  // r's error, once out is handed out

	record, field int  // the record and field being read (0-based)
	recordBytes   int  // bytes of the record handed out
	nonEmpty      bool // the record has a byte (encoding/csv skips blank lines)
	started       bool // the field has a byte: a quote opens no quoted field
	quoted        bool // in a quoted field, its quote open
	quote         bool // a quote was read in a quoted field: it closes it, or "" is one quote
	dmatch        int  // bytes of a (multi-byte) delimiter matched so far
	fieldBytes    int  // bytes of the field's text handed out
	keptChars     int  // characters of them
	cutting       bool // the field reached MaxCellBytes: the rest is counted
	chars         int  // characters of the field being cut
	cuts          map[int]map[int]int
}

var errRowTooLarge = errors.New("row too large")

func newCSVCap(r io.Reader, delim rune) *csvCap {
	return &csvCap{r: r, delim: utf8.AppendRune(nil, delim), buf: make([]byte, textBufSize)}
}

func (c *csvCap) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.buf)
		// out is resliced as it is handed out: appending to it would
		// allocate a buffer for every read.
		c.out = c.spare[:0]
		for i := 0; i < n; {
			if k := c.plainRun(c.buf[i:n]); k > 0 {
				i += k
				continue
			}
			c.step(c.buf[i])
			i++
		}
		if err == io.EOF {
			c.flushDelimiter()
			c.endField()
		}
		if c.recordBytes > MaxRowBytes {
			c.out, err = c.out[:0], errRowTooLarge
		}
		c.spare, c.err = c.out, err
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// plainRun hands out at once the bytes at the start of b that step would
// each hand out as text of the field (no quote, line break or delimiter,
// and the field stays under MaxCellBytes), and returns how many it took:
// most of a file, which byte by byte through step was a tenth of an
// analysis.
func (c *csvCap) plainRun(b []byte) int {
	if c.quote || c.dmatch > 0 || c.cutting {
		return 0
	}
	limit := min(len(b), MaxCellBytes-c.fieldBytes)
	k, starts := 0, 0
	if c.quoted {
		for ; k < limit; k++ {
			x := b[k]
			if x == '"' || x == '\r' {
				break
			}
			if utf8.RuneStart(x) {
				starts++
			}
		}
	} else {
		d := c.delim[0]
		for ; k < limit; k++ {
			x := b[k]
			if x == '"' || x == '\r' || x == '\n' || x == d {
				break
			}
			if utf8.RuneStart(x) {
				starts++
			}
		}
		if k > 0 {
			c.started, c.nonEmpty = true, true
		}
	}
	c.out = append(c.out, b[:k]...)
	c.recordBytes += k
	c.fieldBytes += k
	c.keptChars += starts
	return k
}

// step looks at one byte of the text.
func (c *csvCap) step(b byte) {
	if c.quote {
		c.quote = false
		if b == '"' {
			c.emitQuote()
			return
		}
		c.quoted = false
		c.pass('"') // the closing quote; b follows the quoted field
	}
	if b == '\r' {
		// Only ever before '\n' (crToLF): part of the line break, which
		// encoding/csv reads as "\n".
		c.pass(b)
		return
	}
	if c.quoted {
		if b == '"' {
			c.quote = true
		} else {
			c.emit(b)
		}
		return
	}
	if c.dmatch > 0 && b != c.delim[c.dmatch] {
		c.flushDelimiter()
	}
	switch {
	case b == c.delim[c.dmatch]:
		if c.dmatch++; c.dmatch == len(c.delim) {
			c.dmatch = 0
			c.endField()
			c.field++
			c.nonEmpty = true
			for _, d := range c.delim {
				c.pass(d)
			}
		}
	case b == '\n':
		c.endField()
		if c.nonEmpty {
			c.record++
		}
		c.field, c.nonEmpty, c.recordBytes = 0, false, 0
		c.pass('\n')
	case b == '"' && !c.started:
		c.quoted, c.started, c.nonEmpty = true, true, true
		c.pass('"')
	default:
		c.text(b)
	}
}

// flushDelimiter hands out as text what looked like the start of the
// delimiter but was not.
func (c *csvCap) flushDelimiter() {
	held := c.dmatch
	c.dmatch = 0
	for _, d := range c.delim[:held] {
		c.text(d)
	}
}

// text is a byte of an unquoted field.
func (c *csvCap) text(b byte) {
	c.started, c.nonEmpty = true, true
	c.emit(b)
}

// emit hands out a byte of the field's text, or counts it once the field
// is cut.
func (c *csvCap) emit(b byte) {
	start := utf8.RuneStart(b)
	if !c.cutting && start && c.fieldBytes >= MaxCellBytes {
		c.cutting, c.chars = true, c.keptChars
	}
	switch {
	case c.cutting:
		if start {
			c.chars++
		}
		return
	case start:
		c.keptChars++
	}
	c.pass(b)
	c.fieldBytes++
}

// emitQuote hands out "", one quote of a quoted field, whole or not at all.
func (c *csvCap) emitQuote() {
	if !c.cutting && c.fieldBytes+2 > MaxCellBytes {
		c.cutting, c.chars = true, c.keptChars
	}
	if c.cutting {
		c.chars++
		return
	}
	c.keptChars++
	c.pass('"')
	c.pass('"')
	c.fieldBytes += 2
}

// pass hands out a byte.
func (c *csvCap) pass(b byte) {
	c.out = append(c.out, b)
	c.recordBytes++
}

// endField closes the field and remembers it when it was cut.
func (c *csvCap) endField() {
	if c.quote { // the text ended right after the closing quote
		c.quote, c.quoted = false, false
		c.pass('"')
	}
	if c.cutting {
		if c.cuts == nil {
			c.cuts = map[int]map[int]int{}
		}
		if c.cuts[c.record] == nil {
			c.cuts[c.record] = map[int]int{}
		}
		c.cuts[c.record][c.field] = c.chars
	}
	c.cutting, c.fieldBytes, c.keptChars, c.started = false, 0, 0, false
}

// take returns and forgets the cut fields of a record.
func (c *csvCap) take(record int) map[int]int {
	cuts := c.cuts[record]
	delete(c.cuts, record)
	return cuts
}
