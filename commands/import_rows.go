package commands

import (
	"errors"
	"hash/maphash"
	"io"
	"runtime"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// importChunk is how many rows are matched against the registry, and
// appended, per round trip.
const importChunk = 1000

// rowScanner reads a file's data rows and checks each against the mapping.
// It reads ahead of its caller: one goroutine reads the file chunk by
// chunk, the rows of each chunk are checked on another (as many at once as
// there are cores), and the chunks come out in file order. Reading and
// checking the next rows overlaps the caller's round trips to the database.
type rowScanner struct {
	rows    RowReader
	mapping domain.ImportMapping
	custom  *domain.CustomFieldSet
	pending []FileRow // rows read ahead while looking for the header
	maxRows int
	count   int
	// match, when set, finds the registry's clients a chunk's rows name,
	// beside checking them (the analysis: nothing it reads changes).
	match func(rows []domain.ImportRow) (map[domain.UniqueKey]uuid.UUID, error)

	chunks   chan *checkedChunk // in file order; closed after the last
	stop     chan struct{}      // closed by close: the reader gives up
	done     chan struct{}      // closed when the reader has left rows alone
	checkers sync.WaitGroup
	// spare holds the details maps of rows the caller is done with, a
	// chunk's at a time, for the rows still to be read (see recycle).
	spare chan []map[domain.Field]string
}

// checkedChunk is up to importChunk rows; ready is closed once they are
// checked (and matched) or err is set (io.EOF after the last row).
type checkedChunk struct {
	rows  []domain.ImportRow
	found map[domain.UniqueKey]uuid.UUID
	err   error
	ready chan struct{}
}

// readAhead is how many chunks may wait for the caller: memory stays a few
// thousand rows whatever the file's size.
const readAhead = 2

// readChunk returns the next rows and what match found for them; io.EOF
// only when none is left.
func (s *rowScanner) readChunk() ([]domain.ImportRow, map[domain.UniqueKey]uuid.UUID, error) {
	if s.chunks == nil {
		s.chunks, s.stop, s.done = make(chan *checkedChunk, readAhead), make(chan struct{}), make(chan struct{})
		s.spare = make(chan []map[domain.Field]string, readAhead)
		go s.read()
	}
	c, ok := <-s.chunks
	if !ok {
		return nil, nil, io.EOF
	}
	<-c.ready
	return c.rows, c.found, c.err
}

// recycle hands back the details maps of rows the caller is done with:
// nothing may use them any more. The rows to come are read into them.
func (s *rowScanner) recycle(details []map[domain.Field]string) {
	select {
	case s.spare <- details:
	default: // enough are spare already
	}
}

// close stops reading ahead and waits for the chunks being checked, then
// closes the file.
func (s *rowScanner) close() error {
	if s.chunks != nil {
		close(s.stop)
		<-s.done
		s.checkers.Wait()
	}
	return s.rows.Close()
}

func (s *rowScanner) read() {
	defer close(s.done)
	defer close(s.chunks)
	checking := make(chan struct{}, runtime.GOMAXPROCS(0))
	for {
		c := &checkedChunk{ready: make(chan struct{})}
		raw, err := s.readRaw()
		if err != nil {
			c.err = err
			close(c.ready)
		} else {
			select {
			case checking <- struct{}{}:
			case <-s.stop:
				return
			}
			s.checkers.Go(func() {
				defer func() { <-checking }()
				var spare []map[domain.Field]string
				select {
				case spare = <-s.spare:
				default:
				}
				c.rows = make([]domain.ImportRow, len(raw))
				for i, fr := range raw {
					var details map[domain.Field]string
					if i < len(spare) {
						details = spare[i]
						clear(details)
					}
					c.rows[i] = s.mapping.ReadInto(fr.Number, fr.Cells, s.custom, details)
					c.rows[i].CellsCut(fr.Cut)
				}
				if s.match != nil {
					c.found, c.err = s.match(c.rows)
				}
				close(c.ready)
			})
		}
		select {
		case s.chunks <- c:
		case <-s.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// readRaw reads up to importChunk rows as they are in the file; io.EOF
// only when none is left, a *domain.RefusedError once the file holds more
// rows than allowed.
func (s *rowScanner) readRaw() ([]FileRow, error) {
	var raw []FileRow
	for len(raw) < importChunk {
		var fr FileRow
		if len(s.pending) > 0 {
			fr, s.pending = s.pending[0], s.pending[1:]
		} else {
			var err error
			if fr, err = s.rows.Next(); errors.Is(err, io.EOF) && len(raw) > 0 {
				return raw, nil
			} else if err != nil {
				return nil, err
			}
		}
		s.count++
		if s.maxRows > 0 && s.count > s.maxRows {
			limit := strconv.Itoa(s.maxRows)
			return nil, &domain.RefusedError{Code: "too_many_rows",
				Detail: "the file has more than " + limit + " rows, the limit of one import",
				Params: map[string]string{"limit": limit}}
		}
		raw = append(raw, fr)
	}
	return raw, nil
}

// firstRows remembers, per client key, the first row of the file that named
// the client. Keys are hashed: a million rows fit in a few tens of MB.
type firstRows struct {
	seed maphash.Seed
	rows map[uint64]int32
}

func newFirstRows() *firstRows {
	return &firstRows{seed: maphash.MakeSeed(), rows: map[uint64]int32{}}
}

// see records row as the first for the key made of parts (concatenated),
// or returns the earlier first row.
func (f *firstRows) see(row int, parts ...string) (first int, seen bool) {
	h := f.hash(parts)
	if prev, ok := f.rows[h]; ok {
		return int(prev), true
	}
	f.rows[h] = int32(row)
	return row, false
}

func (f *firstRows) get(parts ...string) (int, bool) {
	prev, ok := f.rows[f.hash(parts)]
	return int(prev), ok
}

// hash hashes the parts as one string without building it: a key is
// looked up twice for every row of a file.
func (f *firstRows) hash(parts []string) uint64 {
	var h maphash.Hash
	h.SetSeed(f.seed)
	for _, p := range parts {
		h.WriteString(p)
	}
	return h.Sum64()
}

// duplicateIssue points at the row that used the value first; kind is the
// kind of the unique key the two rows share (a row may carry both an
// external id and an email, and repeat only one of them).
func duplicateIssue(m domain.ImportMapping, r domain.ImportRow, kind string, first int) domain.ImportIssue {
	field, value := string(domain.FieldEmail), r.Client.Details[domain.FieldEmail]
	if kind != "email" && r.Ref != nil {
		field, value = "external_id", r.Ref.ExternalID
	}
	iss := domain.ImportIssue{Row: r.Number, Field: field, Value: value, Code: "duplicate_in_file",
		Params: map[string]string{"first_row": strconv.Itoa(first), "value": value}}
	iss.Column, iss.Header = columnOf(m, field)
	return iss
}

func columnOf(m domain.ImportMapping, key string) (string, string) {
	for i, k := range m.Keys() {
		if k == key {
			h := ""
			if i < len(m.Headers()) {
				h = m.Headers()[i]
			}
			return domain.ColumnLetter(i), h
		}
	}
	return "", ""
}
