package projections

import (
	"encoding/binary"
	"time"
)

// binaryCopy writes rows in PostgreSQL's binary COPY format, for the few
// column types a folded client row has. pgx's CopyFrom encodes any value
// through its type map, one lookup per value: thirty-two values a row were
// a tenth of a rebuild's CPU.
type binaryCopy struct {
	buf []byte
}

// PostgreSQL's type oids of the array elements written here.
const (
	textOID = 25
	uuidOID = 2950
)

// postgresEpoch is where timestamptz's microseconds count from
// (2000-01-01), in microseconds since the Unix epoch.
const postgresEpoch = 946_684_800_000_000

func newBinaryCopy(sizeHint int) *binaryCopy {
	c := &binaryCopy{buf: make([]byte, 0, sizeHint)}
	c.buf = append(c.buf, "PGCOPY\n\xff\r\n\x00"...)
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // flags
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // header extension length
	return c
}

func (c *binaryCopy) row(fields int) {
	c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(fields))
}

// end writes the trailer and returns the whole stream.
func (c *binaryCopy) end() []byte {
	return binary.BigEndian.AppendUint16(c.buf, 0xffff)
}

func (c *binaryCopy) length(n int) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(int32(n)))
}

func (c *binaryCopy) null() { c.length(-1) }

func (c *binaryCopy) uuid(id [16]byte) {
	c.length(16)
	c.buf = append(c.buf, id[:]...)
}

func (c *binaryCopy) int4(v int32) {
	c.length(4)
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(v))
}

func (c *binaryCopy) int8(v int64) {
	c.length(8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
}

func (c *binaryCopy) text(s string) {
	c.length(len(s))
	c.buf = append(c.buf, s...)
}

// jsonb is a version byte, then the JSON text.
func (c *binaryCopy) jsonb(s string) {
	c.length(1 + len(s))
	c.buf = append(c.buf, 1)
	c.buf = append(c.buf, s...)
}

func (c *binaryCopy) timestamptz(t time.Time) {
	c.int8(t.UnixMicro() - postgresEpoch)
}

// array writes a one-dimensional array without nulls: dimensions, flags,
// element type, then size and lower bound of the one dimension (none when
// empty), then each element with its length.
func array[T any](c *binaryCopy, elemOID uint32, elemLen func(T) int, appendElem func([]byte, T) []byte, values []T) {
	size := 12
	if len(values) > 0 {
		size += 8
	}
	for _, v := range values {
		size += 4 + elemLen(v)
	}
	c.length(size)
	dims := uint32(0)
	if len(values) > 0 {
		dims = 1
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf, dims)
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // no nulls
	c.buf = binary.BigEndian.AppendUint32(c.buf, elemOID)
	if len(values) > 0 {
		c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(values)))
		c.buf = binary.BigEndian.AppendUint32(c.buf, 1) // lower bound
	}
	for _, v := range values {
		c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(elemLen(v)))
		c.buf = appendElem(c.buf, v)
	}
}

func (c *binaryCopy) textArray(values []string) {
	array(c, textOID, func(s string) int { return len(s) }, func(b []byte, s string) []byte { return append(b, s...) }, values)
}

func uuidArray[U ~[16]byte](c *binaryCopy, values []U) {
	array(c, uuidOID, func(U) int { return 16 }, func(b []byte, id U) []byte { return append(b, id[:]...) }, values)
}
