// Package spreadsheet reads and writes the files users exchange with the
// client registry: the import template, exports, and the files users upload
// for a bulk import (CSV, TXT, XLSX, legacy XLS and ODS).
//
// The reader (Open / File.Next) streams one non-empty row at a time and turns
// every whole-file problem into a *FileError with a stable Code, so the import
// analysis can show the user a plain reason instead of a library message.
//
// Why the workbook readers are our own, small and streaming:
//
//   - XLSX is read with archive/zip and encoding/xml directly, not through
//     excelize's Rows/Columns. Columns does not expose a cell's style, so a
//     date stored as a number cannot be told from a plain number when reading
//     raw values; it also stops silently on malformed sheet XML (rows would be
//     lost without an error), and GetMergeCells loads the whole worksheet into
//     memory. Reading the few parts we need (workbook, relationships, shared
//     strings, number formats, one sheet) keeps every row streamed and every
//     problem reported. excelize stays the writer (template.go, export.go) and
//     builds the test fixtures.
//   - XLS (BIFF8) is read by xls.go on top of github.com/richardlehane/mscfb
//     (v1.0.7, already required through excelize), the maintained reader of
//     the OLE2 compound files an .xls is stored in. The two pure-Go BIFF
//     readers on the module proxy were tried on a LibreOffice-made fixture
//     and rejected: github.com/extrame/xls (v0.0.1 of 2017, the only version
//     the proxy serves; its dependency extrame/ole2 is from 2016) drops
//     formula results and turns plain numbers into dates (12.5 came back as
//     1903-06-03); github.com/shakinm/xlsReader (v0.9.12, 2022, the better
//     maintained of the two) also drops formula results, returns 8-bit
//     strings as raw Latin-1 bytes (invalid UTF-8 for "Müller") and discards
//     read errors. The BIFF8 subset an import needs (shared strings, labels,
//     numbers, RK, cached formula results, number formats, merged cells,
//     FILEPASS) is small, bounds-checked here and streamed record by record.
package spreadsheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Format is the kind of file being read.
type Format string

// The formats the reader understands.
const (
	FormatCSV  Format = "csv"
	FormatTXT  Format = "txt"
	FormatXLSX Format = "xlsx"
	FormatXLS  Format = "xls"
	FormatODS  Format = "ods"
)

// Options overrides detection; zero values mean "detect".
type Options struct {
	// Format: "" = detect from content (zip/OLE2 magic bytes), then the file
	// name extension.
	Format Format
	// Encoding: "" = detect. Names: "utf-8", "utf-16le", "utf-16be",
	// "windows-1252", "iso-8859-1", "windows-1250".
	Encoding string
	// Delimiter: "" = detect among ";" "," "\t" "|".
	Delimiter string
	// Sheet: "" = the sheet named PreferredSheet if present, else the first
	// non-empty sheet.
	Sheet string
	// PreferredSheet is the template's sheet name, e.g. "Clients".
	PreferredSheet string
}

// Detected is what the reader found (or was told), shown to the user in the
// analysis.
type Detected struct {
	Format     Format   `json:"format"`
	Encoding   string   `json:"encoding,omitempty"` // csv/txt only; a BOM is reported separately
	BOM        bool     `json:"bom,omitempty"`
	Delimiter  string   `json:"delimiter,omitempty"`   // csv/txt only
	LineEnding string   `json:"line_ending,omitempty"` // "crlf" | "lf" | "cr", csv/txt only
	Sheet      string   `json:"sheet,omitempty"`       // workbooks only
	Sheets     []string `json:"sheets,omitempty"`      // all sheet names, workbooks only
}

// Row is one non-empty row. Number is the row number the user sees in the
// spreadsheet (first line = 1), so skipped empty rows still count. Cells has
// trailing empty cells removed; values are exactly as in the file (no
// trimming, no truncation).
type Row struct {
	Number int
	Cells  []string
}

// Error codes of FileError. The caller translates by code.
const (
	CodeEmptyFile         = "empty_file"
	CodeUnsupportedFormat = "unsupported_format"
	CodeBinaryContent     = "binary_content"
	CodeInvalidEncoding   = "invalid_encoding"
	CodePasswordProtected = "password_protected"
	CodeCorruptWorkbook   = "corrupt_workbook"
	CodeWorkbookTooLarge  = "workbook_too_large"
	CodeUnknownSheet      = "unknown_sheet"
	CodeEmptyWorkbook     = "empty_workbook"
	CodeUnbalancedQuotes  = "unbalanced_quotes"
	CodeMalformedCSV      = "malformed_csv"
	// CodeInvalidOption: an override in Options names no known format,
	// encoding or usable delimiter.
	CodeInvalidOption = "invalid_option"
	// CodeReadFailed: the underlying io.ReaderAt failed (not the file's fault).
	CodeReadFailed = "read_failed"
)

// FileError is a whole-file problem, with a stable Code and a plain English
// Detail (the caller translates by Code).
type FileError struct {
	Code   string
	Detail string
	Row    int // 0 if not row-specific
	Err    error
}

func (e *FileError) Error() string {
	msg := "spreadsheet: " + e.Code
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Row > 0 {
		msg += fmt.Sprintf(" (row %d)", e.Row)
	}
	return msg
}

// Unwrap gives access to the underlying library or I/O error, if any.
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(code, detail string) *FileError { return &FileError{Code: code, Detail: detail} }

func fileErrRow(code string, row int, detail string) *FileError {
	return &FileError{Code: code, Detail: detail, Row: row}
}

// wrapErr keeps an existing *FileError and turns anything else into one with
// the given code.
func wrapErr(code, detail string, err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return &FileError{Code: code, Detail: detail, Err: err}
}

// rowSource is one format's row iterator. next returns the cells of the next
// row (possibly empty) and its 1-based row number, or io.EOF.
type rowSource interface {
	next() (cells []string, number int, err error)
	close() error
}

// hasContent reads src as far as its first non-blank row.
func hasContent(src rowSource) (bool, error) {
	for {
		cells, _, err := src.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(trimTrailingEmpty(cells)) > 0 {
			return true, nil
		}
	}
}

// File reads rows one at a time.
type File struct {
	det  Detected
	src  rowSource
	code string // error code used when the source panics
	err  error  // sticky: once Next failed it keeps failing the same way
	cut  map[int]int
}

// Cut names the cells of the row Next returned last that were cut to
// MaxCellBytes: 0-based column -> the length the cell had, in characters;
// nil when none was.
func (f *File) Cut() map[int]int { return f.cut }

// Open detects the file's format (and for text its encoding, delimiter and
// line ending, for workbooks its sheet) and prepares to stream its rows.
// name is the uploaded file name; only its extension is used.
func Open(r io.ReaderAt, size int64, name string, opts Options) (f *File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, &FileError{Code: CodeCorruptWorkbook, Detail: "the file could not be read", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	if size <= 0 {
		return nil, fileErr(CodeEmptyFile, "the file is empty")
	}
	format, err := chooseFormat(r, size, name, opts.Format)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatXLSX, FormatODS:
		return openZip(r, size, opts)
	case FormatXLS:
		return openOLE(r, size, opts)
	default:
		return openText(r, size, format, opts)
	}
}

// Detected reports what Open found or was told.
func (f *File) Detected() Detected {
	d := f.det
	d.Sheets = append([]string(nil), f.det.Sheets...)
	return d
}

// Next returns the next non-empty row, io.EOF after the last one, or a
// *FileError. Rows whose cells are all empty or whitespace are skipped but
// still counted in Row.Number.
func (f *File) Next() (Row, error) {
	if f.err != nil {
		return Row{}, f.err
	}
	for {
		cells, number, err := f.nextRaw()
		if err != nil {
			f.err = err
			return Row{}, err
		}
		var cut map[int]int
		if c, ok := f.src.(cutter); ok {
			cut = c.cuts(number)
		}
		cells = trimTrailingEmpty(cells)
		if len(cells) == 0 {
			continue
		}
		if err := checkRowSize(number, cells); err != nil {
			f.err = err
			return Row{}, err
		}
		f.cut = cut
		return Row{Number: number, Cells: cells}, nil
	}
}

// nextRaw calls the source, turning a panic in a parser into a FileError so a
// hostile file can never take the process down.
func (f *File) nextRaw() (cells []string, number int, err error) {
	defer func() {
		if p := recover(); p != nil {
			cells, number = nil, 0
			err = &FileError{Code: f.code, Detail: "the file could not be read", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	cells, number, err = f.src.next()
	if err != nil && err != io.EOF {
		err = wrapErr(f.code, "the file could not be read", err)
	}
	return cells, number, err
}

// Close releases the resources of the reader. It does not close the
// io.ReaderAt given to Open.
func (f *File) Close() error {
	if f.src == nil {
		return nil
	}
	err := f.src.close()
	f.src = nil
	if f.err == nil {
		f.err = fileErr(CodeReadFailed, "the file is closed")
	}
	return err
}

// trimTrailingEmpty drops trailing cells that are empty or whitespace only;
// a row left with no cells is an empty row.
func trimTrailingEmpty(cells []string) []string {
	n := len(cells)
	for n > 0 && isBlank(cells[n-1]) {
		n--
	}
	return cells[:n]
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// Magic numbers of the containers we recognise.
var (
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicOLE2     = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	magicPDF      = []byte("%PDF-")
)

// chooseFormat applies the override, else sniffs content, else looks at the
// extension. Content wins over the name because users rename files.
func chooseFormat(r io.ReaderAt, size int64, name string, forced Format) (Format, error) {
	switch forced {
	case FormatCSV, FormatTXT, FormatXLSX, FormatXLS, FormatODS:
		return forced, nil
	case "":
	default:
		return "", fileErr(CodeInvalidOption, fmt.Sprintf("unknown format %q (use csv, txt, xlsx, xls or ods)", string(forced)))
	}
	head, err := readHead(r, size, 512)
	if err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty):
		return FormatXLSX, nil // or ODS: openZip tells them apart by their parts
	case bytes.HasPrefix(head, magicOLE2):
		return FormatXLS, nil
	case bytes.HasPrefix(head, magicPDF):
		return "", fileErr(CodeUnsupportedFormat, "the file is a PDF document, not a spreadsheet")
	}
	if kind := markupKind(head); kind != "" {
		return "", fileErr(CodeUnsupportedFormat, "the file is "+kind+", not a spreadsheet; open it in Excel and save it as .xlsx")
	}
	switch ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, "\\", "/"))); ext {
	case ".txt", ".tsv", ".tab":
		return FormatTXT, nil
	case ".csv", "":
		return FormatCSV, nil
	case ".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".ods", ".ots":
		// Named like a workbook but neither zip nor OLE2: often a CSV
		// renamed by hand, which reads fine as text.
		if looksBinary(head) {
			return "", fileErr(CodeCorruptWorkbook, "the file is named like an Excel workbook but is not a readable workbook")
		}
		return FormatCSV, nil
	default:
		if looksBinary(head) {
			return "", fileErr(CodeUnsupportedFormat, fmt.Sprintf("files of type %q cannot be imported (use xlsx, xls, ods, csv or txt)", ext))
		}
		return FormatCSV, nil
	}
}

// readHead returns up to n bytes from the start of the file.
func readHead(r io.ReaderAt, size int64, n int) ([]byte, error) {
	if size < int64(n) {
		n = int(size)
	}
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, 0)
	if err != nil && !(err == io.EOF && got == n) {
		return nil, &FileError{Code: CodeReadFailed, Detail: "the file could not be read", Err: fmt.Errorf("read header: %w", err)}
	}
	return buf, nil
}

// markupKind recognises HTML and XML files, which some systems export with an
// .xls name ("Excel" exports that are really web pages or XML Spreadsheet
// 2003). Reading them as CSV would produce nonsense columns.
func markupKind(head []byte) string {
	s := head
	s = bytes.TrimPrefix(s, bomUTF8)
	s = bytes.TrimLeft(s, " \t\r\n")
	lower := bytes.ToLower(s)
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")),
		bytes.HasPrefix(lower, []byte("<table")), bytes.HasPrefix(lower, []byte("<meta")):
		return "a web page (HTML)"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "an XML document"
	}
	return ""
}

// looksBinary reports NUL bytes or many control characters in a sample.
func looksBinary(sample []byte) bool {
	if len(sample) >= 2 && (bytes.HasPrefix(sample, bomUTF16LE) || bytes.HasPrefix(sample, bomUTF16BE)) {
		return false
	}
	if _, ok := sniffUTF16(sample); ok {
		return false
	}
	var controls int64
	for _, b := range sample {
		if b == 0 {
			return true
		}
		if isControl(b) {
			controls++
		}
	}
	return tooManyControls(controls, int64(len(sample)))
}
