package spreadsheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

const (
	// sampleBytes of decoded text are looked at to detect the delimiter and
	// the line ending; sampleRecords is how many rows of it count.
	sampleBytes   = 1 << 20
	sampleRecords = 50
	textBufSize   = 64 << 10
)

// delimiterCandidates in order of preference when they tie.
var delimiterCandidates = []byte{';', ',', '\t', '|'}

func openText(r io.ReaderAt, size int64, format Format, opts Options) (*File, error) {
	enc, err := detectEncoding(r, size, opts.Encoding)
	if err != nil {
		return nil, err
	}
	sample, err := readSample(enc.decodedReader(r, size))
	if err != nil {
		return nil, err
	}
	hint, hasHint := sepHint(sample)
	var delim rune
	if opts.Delimiter == "" && hasHint {
		delim = hint
	} else if delim, err = chooseDelimiter(opts.Delimiter, sample, format); err != nil {
		return nil, err
	}
	det := Detected{
		Format:     format,
		Encoding:   enc.name,
		BOM:        enc.bomLen > 0,
		Delimiter:  string(delim),
		LineEnding: detectLineEnding(sample),
	}
	src := newCSVSource(enc.decodedReader(r, size), delim, enc.checkUTF8)
	if hasHint {
		// Excel reads the hint and does not show that line: the rows the
		// user sees start below it.
		if err := src.skipLine(); err != nil {
			return nil, err
		}
	}
	return &File{det: det, src: src, code: CodeMalformedCSV}, nil
}

// sepHint recognises Excel's "sep=;" first line, which names the delimiter.
func sepHint(sample []byte) (rune, bool) {
	line := sample
	if i := bytes.IndexAny(sample, "\r\n"); i >= 0 {
		line = sample[:i]
	}
	rest, ok := bytes.CutPrefix(line, []byte("sep="))
	if !ok {
		return 0, false
	}
	r, err := parseDelimiter(string(rest))
	return r, err == nil
}

func readSample(r io.Reader) ([]byte, error) {
	sample, err := io.ReadAll(io.LimitReader(r, sampleBytes))
	if err != nil {
		return nil, &FileError{Code: CodeReadFailed, Detail: "the file could not be read", Err: fmt.Errorf("read sample: %w", err)}
	}
	return sample, nil
}

func chooseDelimiter(forced string, sample []byte, format Format) (rune, error) {
	if forced != "" {
		return parseDelimiter(forced)
	}
	if d, ok := detectDelimiter(sample); ok {
		return rune(d), nil
	}
	// One column: the delimiter does not matter for reading; report the
	// usual one of the format.
	if format == FormatTXT {
		return '\t', nil
	}
	return ',', nil
}

// parseDelimiter accepts one character, or a spelled-out tab.
func parseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "\\t", "tab":
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' || r == 0 {
		return 0, fileErr(CodeInvalidOption, fmt.Sprintf("%q cannot be used as a delimiter", s))
	}
	return r, nil
}

// detectDelimiter picks the candidate that splits most sample rows into the
// same number (> 1) of fields; ties go to more fields, then to the order of
// delimiterCandidates. Delimiters inside quotes do not count.
func detectDelimiter(sample []byte) (byte, bool) {
	var best byte
	bestFreq, bestMode := 0, 0
	for _, c := range delimiterCandidates {
		mode, freq := modeOf(countFields(sample, c))
		if mode <= 1 {
			continue
		}
		if freq > bestFreq || (freq == bestFreq && mode > bestMode) {
			best, bestFreq, bestMode = c, freq, mode
		}
	}
	return best, bestFreq > 0
}

// countFields returns the number of fields of each of the first
// sampleRecords non-empty rows of sample when split on delim. It is a quote
// aware scan, not a parser: a quote toggles "inside quotes", which also
// handles doubled quotes.
func countFields(sample []byte, delim byte) []int {
	var counts []int
	fields, inQuotes, content := 1, false, false
	for i := 0; i < len(sample) && len(counts) < sampleRecords; i++ {
		b := sample[i]
		switch {
		case b == '"':
			inQuotes = !inQuotes
			content = true
		case inQuotes:
		case b == delim:
			fields++
			content = true
		case b == '\n' || b == '\r':
			if content {
				counts = append(counts, fields)
			}
			fields, content = 1, false
		case b != ' ':
			content = true
		}
	}
	if content && len(counts) < sampleRecords {
		counts = append(counts, fields)
	}
	return counts
}

// modeOf returns the most frequent value (the larger one on a tie) and how
// often it occurs.
func modeOf(values []int) (mode, freq int) {
	seen := map[int]int{}
	for _, v := range values {
		seen[v]++
		if n := seen[v]; n > freq || (n == freq && v > mode) {
			mode, freq = v, n
		}
	}
	return mode, freq
}

// detectLineEnding reports the most common line ending of the sample.
func detectLineEnding(sample []byte) string {
	crlf := bytes.Count(sample, []byte("\r\n"))
	cr := bytes.Count(sample, []byte("\r")) - crlf
	lf := bytes.Count(sample, []byte("\n")) - crlf
	switch {
	case crlf == 0 && cr == 0 && lf == 0:
		return ""
	case crlf >= lf && crlf >= cr:
		return "crlf"
	case lf >= cr:
		return "lf"
	default:
		return "cr"
	}
}

// crToLF turns a CR that is not followed by LF into LF, because
// encoding/csv splits records on LF and CRLF only, while old Mac Excel writes
// lone CRs. The conversion is applied everywhere, also inside quoted
// fields: a lone CR in a quoted value becomes a line feed, which is what it
// meant (a line break) and is rare enough not to track quoting for.
type crToLF struct{ r *bufio.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	buf := p[:n]
	for off := 0; ; {
		i := bytes.IndexByte(buf[off:], '\r')
		if i < 0 {
			break
		}
		i += off
		if i+1 < len(buf) {
			if buf[i+1] != '\n' {
				buf[i] = '\n'
			}
		} else if next, perr := c.r.Peek(1); perr != nil || next[0] != '\n' {
			buf[i] = '\n'
		}
		off = i + 1
	}
	return n, err
}

// csvSource reads records with encoding/csv (RFC 4180 quoting, ragged rows
// allowed) and maps each to the row number the user sees in a spreadsheet:
// the line the record starts on, minus the line breaks inside quoted values
// of earlier records (a spreadsheet shows such a record as one row).
type csvSource struct {
	cr        *csv.Reader
	capped    *csvCap
	records   int // records read so far
	extra     int // line breaks inside quoted values read so far
	checkUTF8 bool
	cut       map[int]int // of the row read last
	cutRow    int
	slab      []string // the cells of rows to come are carved from it
}

// cellSlab is how many cells are allocated at once: one allocation for
// some hundred rows rather than one a row. A row keeps the slab it was
// carved from alive, which the rows read with it mostly do anyway.
const cellSlab = 4096

func newCSVSource(text io.Reader, delim rune, checkUTF8 bool) *csvSource {
	capped := newCSVCap(crToLF{bufio.NewReaderSize(text, textBufSize)}, delim)
	cr := csv.NewReader(capped)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	return &csvSource{cr: cr, capped: capped, checkUTF8: checkUTF8}
}

func (s *csvSource) cuts(row int) map[int]int {
	if row == s.cutRow {
		return s.cut
	}
	return nil
}

// skipLine drops the first line (a "sep=" hint) from the rows and their
// numbering.
func (s *csvSource) skipLine() error {
	if _, err := s.cr.Read(); err != nil && err != io.EOF {
		return s.mapError(err)
	}
	s.capped.take(s.records)
	s.records++
	s.extra++
	return nil
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.cr.Read()
	if err != nil {
		return nil, 0, s.mapError(err)
	}
	line, _ := s.cr.FieldPos(0)
	number := line - s.extra
	s.cut, s.cutRow = s.capped.take(s.records), number
	s.records++
	// ReuseRecord reuses the slice, so the caller gets a copy.
	if len(rec) > len(s.slab) {
		s.slab = make([]string, max(cellSlab, len(rec)))
	}
	cells := s.slab[:len(rec):len(rec)]
	s.slab = s.slab[len(rec):]
	copy(cells, rec)
	for _, c := range cells {
		s.extra += strings.Count(c, "\n")
		if strings.IndexByte(c, 0) >= 0 {
			return nil, 0, fileErrRow(CodeBinaryContent, number, "the file contains binary data (NUL characters), not text")
		}
		if s.checkUTF8 && !utf8.ValidString(c) {
			return nil, 0, fileErrRow(CodeInvalidEncoding, number, "this row is not valid UTF-8 while the rest of the file is: the file mixes encodings; save it again as UTF-8")
		}
	}
	return cells, number, nil
}

func (s *csvSource) mapError(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	if errors.Is(err, errRowTooLarge) {
		return rowTooLarge(s.records + 1)
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &FileError{Code: CodeReadFailed, Detail: "the file could not be read", Err: err}
	}
	row := pe.StartLine - s.extra
	switch {
	case errors.Is(pe.Err, csv.ErrQuote) && s.unclosedQuote(pe):
		return &FileError{Code: CodeUnbalancedQuotes, Row: row, Err: err,
			Detail: "a value opened with a quote (\") is never closed, so the rest of the file would be read as one value"}
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return &FileError{Code: CodeMalformedCSV, Row: row, Err: err,
			Detail: "a quote (\") appears inside a value that is not enclosed in quotes; enclose the value in quotes and double the quote (\"\")"}
	default:
		return &FileError{Code: CodeMalformedCSV, Row: row, Err: err,
			Detail: "there is text right after the closing quote of a quoted value"}
	}
}

// unclosedQuote tells the two causes of csv.ErrQuote apart: a quoted value
// still open at the end of the file (the parser ran through to the end) or
// text after a closing quote (the parser stopped at that line and more
// follows). It consumes the reader, which is fine on this error path.
func (s *csvSource) unclosedQuote(pe *csv.ParseError) bool {
	if pe.Line > pe.StartLine {
		return true
	}
	_, err := s.cr.Read()
	return err == io.EOF
}

func (s *csvSource) close() error { return nil }
