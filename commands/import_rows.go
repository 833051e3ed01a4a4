package commands

import (
	"errors"
	"hash/maphash"
	"io"
	"strconv"

	"github.com/clientreg/clientreg/domain"
)

// importChunk is how many rows are matched against the registry, and
// appended, per round trip.
const importChunk = 1000

// rowScanner reads a file's data rows and checks each against the mapping.
type rowScanner struct {
	rows    RowReader
	mapping domain.ImportMapping
	custom  *domain.CustomFieldSet
	pending *FileRow // the first row, when it was data rather than a header
	maxRows int
	count   int
}

// next returns the next checked row, io.EOF after the last, or a
// *domain.RefusedError once the file holds more rows than allowed.
func (s *rowScanner) next() (domain.ImportRow, error) {
	var fr FileRow
	if s.pending != nil {
		fr, s.pending = *s.pending, nil
	} else {
		var err error
		if fr, err = s.rows.Next(); err != nil {
			return domain.ImportRow{}, err
		}
	}
	s.count++
	if s.maxRows > 0 && s.count > s.maxRows {
		limit := strconv.Itoa(s.maxRows)
		return domain.ImportRow{}, &domain.RefusedError{Code: "too_many_rows",
			Detail: "the file has more than " + limit + " rows, the limit of one import",
			Params: map[string]string{"limit": limit}}
	}
	return s.mapping.Read(fr.Number, fr.Cells, s.custom), nil
}

// readChunk fills up to importChunk rows; io.EOF only when none is left.
func (s *rowScanner) readChunk(buf []domain.ImportRow) ([]domain.ImportRow, error) {
	buf = buf[:0]
	for len(buf) < importChunk {
		r, err := s.next()
		if errors.Is(err, io.EOF) {
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		buf = append(buf, r)
	}
	return buf, nil
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

// see records row as the first for key, or returns the earlier first row.
func (f *firstRows) see(key string, row int) (first int, seen bool) {
	h := maphash.String(f.seed, key)
	if prev, ok := f.rows[h]; ok {
		return int(prev), true
	}
	f.rows[h] = int32(row)
	return row, false
}

func (f *firstRows) get(key string) (int, bool) {
	prev, ok := f.rows[maphash.String(f.seed, key)]
	return int(prev), ok
}

// duplicateIssue points at the row that used the value first.
func duplicateIssue(m domain.ImportMapping, r domain.ImportRow, first int) domain.ImportIssue {
	field := string(domain.FieldEmail)
	if r.Ref != nil {
		field = "external_id"
	}
	iss := domain.ImportIssue{Row: r.Number, Field: field, Code: "duplicate_in_file",
		Params: map[string]string{"first_row": strconv.Itoa(first)}}
	if field == string(domain.FieldEmail) {
		iss.Value = r.Client.Details[domain.FieldEmail]
		iss.Params["value"] = iss.Value
	} else {
		iss.Value = r.Ref.ExternalID
		iss.Params["value"] = iss.Value
	}
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
