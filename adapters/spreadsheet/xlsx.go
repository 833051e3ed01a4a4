package spreadsheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// Limits against zip bombs: the total uncompressed size of a workbook and
// the size of any one part. Variables so tests can lower them.
var (
	unzipSizeLimit    int64 = 1 << 30   // 1 GiB
	unzipXMLSizeLimit int64 = 256 << 20 // 256 MiB
)

// Excel's grid limits; anything beyond is a damaged or hostile file.
const (
	maxXLSXRows = 1 << 20
	maxXLSXCols = 1 << 14
)

// errWorkbook marks parse failures that mean "damaged workbook".
var errWorkbook = errors.New("damaged workbook")

func corrupt(detail string, err error) *FileError {
	return &FileError{Code: CodeCorruptWorkbook, Detail: detail, Err: err}
}

// openZip reads a zip workbook: XLSX, or ODS when its parts say so
// (whichever of the two the format option named: users rename files).
func openZip(r io.ReaderAt, size int64, opts Options) (*File, error) {
	if head, err := readHead(r, size, len(magicOLE2)); err == nil && bytes.Equal(head, magicOLE2) {
		return openOLE(r, size, opts) // Format forced to xlsx, but it is an OLE2 file (e.g. encrypted xlsx)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, corrupt("the workbook is damaged or incomplete (it may have been cut off during upload)", err)
	}
	if err := checkZipSizes(zr); err != nil {
		return nil, err
	}
	pkg := newZipPackage(zr)
	if ods, err := pkg.isODS(); err != nil {
		return nil, err
	} else if ods {
		return openODS(pkg, opts)
	}
	wb, err := pkg.readWorkbook()
	if err != nil {
		return nil, err
	}
	names := wb.sheetNames()
	hidden := make([]bool, len(wb.sheets))
	for i, sh := range wb.sheets {
		hidden[i] = sh.hidden
	}
	idx, err := pickSheet(names, hidden, opts, wb.sheetHasContent)
	if err != nil {
		return nil, err
	}
	src, err := wb.openSheet(idx)
	if err != nil {
		return nil, err
	}
	det := Detected{Format: FormatXLSX, Sheet: names[idx], Sheets: names}
	return &File{det: det, src: src, code: CodeCorruptWorkbook}, nil
}

// checkZipSizes refuses archives whose declared content is too large. The
// declared sizes cannot lie to us: archive/zip fails a read that produces
// more bytes than declared.
func checkZipSizes(zr *zip.Reader) error {
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > uint64(unzipXMLSizeLimit) || total > uint64(unzipSizeLimit) {
			return fileErr(CodeWorkbookTooLarge, fmt.Sprintf(
				"the workbook unpacks to more than %d MB; split it into smaller files", unzipSizeLimit>>20))
		}
	}
	return nil
}

// zipPackage gives access to the parts of an OOXML package by name (part
// names are case-insensitive).
type zipPackage struct {
	files map[string]*zip.File
}

func newZipPackage(zr *zip.Reader) *zipPackage {
	p := &zipPackage{files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		p.files[strings.ToLower(strings.TrimPrefix(f.Name, "/"))] = f
	}
	return p
}

func (p *zipPackage) has(name string) bool {
	_, ok := p.files[strings.ToLower(name)]
	return ok
}

// open returns a stream of the part, limited to unzipXMLSizeLimit.
func (p *zipPackage) open(name string) (io.ReadCloser, error) {
	f, ok := p.files[strings.ToLower(name)]
	if !ok {
		return nil, corrupt("the workbook is missing its part "+name, errWorkbook)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, corrupt("the workbook part "+name+" cannot be read", err)
	}
	return limitedReadCloser{Reader: io.LimitReader(rc, unzipXMLSizeLimit), Closer: rc}, nil
}

type limitedReadCloser struct {
	io.Reader
	io.Closer
}

// newXMLDecoder decodes parts in UTF-8 and, for the rare writer that
// declares another encoding, in that one.
func newXMLDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	d.CharsetReader = decodeCharset
	return d
}

// decodeCharset reads in, written in the encoding an XML declaration
// names, as UTF-8.
func decodeCharset(label string, in io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("xml encoding %q: %w", label, err)
	}
	return transform.NewReader(in, enc.NewDecoder()), nil
}

// readPart streams a small part through handle, one token at a time.
func (p *zipPackage) readPart(name string, handle func(d *xml.Decoder, tok xml.Token) error) error {
	rc, err := p.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := newXMLDecoder(rc)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return corrupt("the workbook part "+name+" is damaged", err)
		}
		if err := handle(d, tok); err != nil {
			return err
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// relationship is one entry of a .rels part.
type relationship struct{ id, typ, target string }

// readRels reads the relationships of part (e.g. "xl/workbook.xml" reads
// "xl/_rels/workbook.xml.rels"), with targets resolved to part names.
func (p *zipPackage) readRels(part string) ([]relationship, error) {
	dir, file := path.Split(part)
	relsName := dir + "_rels/" + file + ".rels"
	if !p.has(relsName) {
		return nil, nil
	}
	var rels []relationship
	err := p.readPart(relsName, func(_ *xml.Decoder, tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || attr(se, "TargetMode") == "External" {
			return nil
		}
		rels = append(rels, relationship{id: attr(se, "Id"), typ: attr(se, "Type"), target: resolvePart(dir, attr(se, "Target"))})
		return nil
	})
	return rels, err
}

func resolvePart(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean(path.Join("/"+dir, target)), "/")
}

func relOfType(rels []relationship, suffix string) (relationship, bool) {
	for _, r := range rels {
		if strings.HasSuffix(r.typ, suffix) {
			return r, true
		}
	}
	return relationship{}, false
}

// workbookPath finds the main workbook part, or explains what the zip is.
func (p *zipPackage) workbookPath() (string, error) {
	rels, err := p.readRels("")
	if err != nil {
		return "", err
	}
	if r, ok := relOfType(rels, "/officeDocument"); ok && p.has(r.target) && strings.Contains(strings.ToLower(r.target), "workbook") {
		return r.target, nil
	}
	if p.has("xl/workbook.xml") {
		return "xl/workbook.xml", nil
	}
	return "", p.notAWorkbook()
}

func (p *zipPackage) notAWorkbook() error {
	switch {
	case p.has("word/document.xml"):
		return fileErr(CodeUnsupportedFormat, "the file is a Word document, not a spreadsheet")
	case p.has("ppt/presentation.xml"):
		return fileErr(CodeUnsupportedFormat, "the file is a PowerPoint presentation, not a spreadsheet")
	}
	return fileErr(CodeUnsupportedFormat, "the file is a zip archive, not an Excel workbook")
}

// xlsxSheet is one sheet of the workbook; part is "" for sheets without
// cells (chart sheets, dialog sheets).
type xlsxSheet struct {
	name   string
	part   string
	hidden bool
}

// xlsxWorkbook holds what every sheet needs: the shared strings and which
// cell styles are dates.
type xlsxWorkbook struct {
	pkg      *zipPackage
	sheets   []xlsxSheet
	sst      []string
	sstCut   map[int]int // shared strings cut to MaxCellBytes: their length in characters
	styles   []dateKind
	date1904 bool
}

func (p *zipPackage) readWorkbook() (*xlsxWorkbook, error) {
	wbPath, err := p.workbookPath()
	if err != nil {
		return nil, err
	}
	wb := &xlsxWorkbook{pkg: p}
	type sheetRef struct {
		name, rid string
		hidden    bool
	}
	var refs []sheetRef
	err = p.readPart(wbPath, func(_ *xml.Decoder, tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			wb.date1904 = v == "1" || strings.EqualFold(v, "true")
		case "sheet":
			refs = append(refs, sheetRef{name: attr(se, "name"), rid: relID(se), hidden: attr(se, "state") != "" && attr(se, "state") != "visible"})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rels, err := p.readRels(wbPath)
	if err != nil {
		return nil, err
	}
	byID := map[string]relationship{}
	for _, r := range rels {
		byID[r.id] = r
	}
	for _, ref := range refs {
		s := xlsxSheet{name: ref.name, hidden: ref.hidden}
		if r, ok := byID[ref.rid]; ok && strings.HasSuffix(r.typ, "/worksheet") && p.has(r.target) {
			s.part = r.target
		}
		wb.sheets = append(wb.sheets, s)
	}
	if len(wb.sheets) == 0 {
		return nil, corrupt("the workbook lists no sheets", errWorkbook)
	}
	if r, ok := relOfType(rels, "/sharedStrings"); ok && p.has(r.target) {
		if wb.sst, wb.sstCut, err = p.readSharedStrings(r.target); err != nil {
			return nil, err
		}
	}
	if r, ok := relOfType(rels, "/styles"); ok && p.has(r.target) {
		if wb.styles, err = p.readStyles(r.target); err != nil {
			return nil, err
		}
	}
	return wb, nil
}

// relID reads the r:id attribute of a <sheet>, whatever its prefix.
func relID(se xml.StartElement) string {
	for _, a := range se.Attr {
		if a.Name.Local == "id" && a.Name.Space != "" {
			return a.Value
		}
	}
	return ""
}

func (wb *xlsxWorkbook) sheetNames() []string {
	names := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		names[i] = s.name
	}
	return names
}

// readSharedStrings keeps the text of every <si>, rich text runs joined,
// phonetic guides (<rPh>) left out: each cut to MaxCellBytes (cut holds
// their length), all of them within MaxSharedStringBytes.
func (p *zipPackage) readSharedStrings(name string) (out []string, cut map[int]int, err error) {
	rc, err := p.open(name)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	x, err := newXMLScanner(rc)
	if err != nil {
		return nil, nil, corrupt("the shared strings cannot be read", err)
	}
	var (
		sb       cellBuffer
		inSI     bool
		inT      bool
		phonetic int
		total    int
	)
	for {
		t, err := x.next()
		if err == io.EOF {
			return out, cut, nil
		}
		if err != nil {
			return nil, nil, corrupt("the shared strings cannot be read", err)
		}
		switch t.kind {
		case xmlStart:
			switch string(t.name) {
			case "si":
				inSI = true
				sb.reset()
			case "rPh":
				phonetic++
			case "t":
				inT = inSI && phonetic == 0
			}
		case xmlEnd:
			switch string(t.name) {
			case "si":
				if n := sb.cutChars(); n > 0 {
					if cut == nil {
						cut = map[int]int{}
					}
					cut[len(out)] = n
				}
				out = append(out, decodeXString(string(sb.b)))
				inSI = false
				// A string costs its text and its header.
				if total += len(sb.b) + 16; total > MaxSharedStringBytes {
					return nil, nil, fileErr(CodeWorkbookTooLarge, fmt.Sprintf(
						"the workbook's shared text is over %d MB; split it into smaller files", MaxSharedStringBytes>>20))
				}
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xmlText:
			if inT {
				sb.write(t.text)
				sb.dropped(t.dropped)
			}
		}
	}
}

// readStyles learns, for each cell format (the s attribute of a cell), whether
// its number format shows a date or a time.
func (p *zipPackage) readStyles(name string) ([]dateKind, error) {
	custom := map[int]string{}
	var xfFormats []int
	inCellXfs := false
	err := p.readPart(name, func(_ *xml.Decoder, tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
				if id, err := strconv.Atoi(attr(t, "numFmtId")); err == nil {
					custom[id] = attr(t, "formatCode")
				}
			case "cellXfs":
				inCellXfs = true
			case "xf":
				if inCellXfs {
					id, _ := strconv.Atoi(attr(t, "numFmtId"))
					xfFormats = append(xfFormats, id)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inCellXfs = false
			}
		}
		return nil
	})
	kinds := make([]dateKind, len(xfFormats))
	for i, id := range xfFormats {
		code, ok := custom[id]
		kinds[i] = classifyNumFmt(id, code, ok)
	}
	return kinds, err
}

// sheetHasContent reports whether sheet i has a non-blank cell, reading only
// as far as the first one.
func (wb *xlsxWorkbook) sheetHasContent(i int) (bool, error) {
	if wb.sheets[i].part == "" {
		return false, nil
	}
	src, err := wb.newSheetSource(wb.sheets[i].part, nil)
	if err != nil {
		return false, err
	}
	defer src.close()
	return hasContent(src)
}

func (wb *xlsxWorkbook) openSheet(i int) (rowSource, error) {
	part := wb.sheets[i].part
	if part == "" {
		return emptySource{}, nil
	}
	merges, err := wb.readMerges(part)
	if err != nil {
		return nil, err
	}
	return wb.newSheetSource(part, merges)
}

// emptySource is a sheet without cells.
type emptySource struct{}

func (emptySource) next() ([]string, int, error) { return nil, 0, io.EOF }
func (emptySource) close() error                 { return nil }

// pickSheet applies the sheet rules shared by XLSX and XLS: the sheet the
// user named, else the template's sheet, else the first sheet with content,
// visible sheets before hidden ones (a hidden sheet is usually a lookup
// list, not the data).
func pickSheet(names []string, hidden []bool, opts Options, hasContent func(i int) (bool, error)) (int, error) {
	if opts.Sheet != "" {
		if i := findSheet(names, opts.Sheet); i >= 0 {
			return i, nil
		}
		return 0, fileErr(CodeUnknownSheet, fmt.Sprintf("the workbook has no sheet named %q; its sheets are: %s",
			opts.Sheet, strings.Join(names, ", ")))
	}
	if opts.PreferredSheet != "" {
		if i := findSheet(names, opts.PreferredSheet); i >= 0 {
			return i, nil
		}
	}
	for _, wantHidden := range []bool{false, true} {
		for i := range names {
			if hidden[i] != wantHidden {
				continue
			}
			ok, err := hasContent(i)
			if err != nil {
				return 0, err
			}
			if ok {
				return i, nil
			}
		}
	}
	return 0, fileErr(CodeEmptyWorkbook, "no sheet of the workbook has any data")
}

// findSheet matches exactly first, then ignoring case as Excel does.
func findSheet(names []string, want string) int {
	for i, n := range names {
		if n == want {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(n, want) {
			return i
		}
	}
	return -1
}

// cellRange is an inclusive, 1-based rectangle of cells.
type cellRange struct{ r1, c1, r2, c2 int }

// sheetDataEnd matches the end of a worksheet's <sheetData>; in XML text
// "<" is always escaped, so "</" can only start a tag.
var sheetDataEnd = regexp.MustCompile(`(</([A-Za-z_][\w.\-]*:)?sheetData\s*>|<([A-Za-z_][\w.\-]*:)?sheetData\s*/>)$`)

// readMerges collects the merged ranges of a sheet. They are stored after
// the cells, so the rows are skipped with a fast byte search instead of
// being parsed twice.
func (wb *xlsxWorkbook) readMerges(part string) ([]cellRange, error) {
	rc, err := wb.pkg.open(part)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	rest, found, err := skipSheetData(rc)
	if err != nil {
		return nil, corrupt("the sheet cannot be read", err)
	}
	if !found {
		return nil, nil // no sheetData end: no merges; the row parser reports damage
	}
	var merges []cellRange
	d := xml.NewDecoder(rest)
	for {
		tok, err := d.RawToken()
		if err != nil {
			return merges, nil // the fragment ends at </worksheet>
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "mergeCell" {
			if cr, ok := parseRange(attr(se, "ref")); ok {
				merges = append(merges, cr)
			}
		}
	}
}

// skipSheetData reads r past the end of the worksheet's <sheetData> and
// returns what follows it. In XML text "<" is always escaped, so the name
// "sheetData" ending a tag can only be that element's end.
func skipSheetData(r io.Reader) (rest io.Reader, found bool, err error) {
	const overlap = 128 // longer than any end tag of sheetData with its prefix
	name := []byte("sheetData")
	buf := make([]byte, 64<<10)
	have, from := 0, 0 // bytes in buf; where the search goes on
	for {
		n, err := io.ReadFull(r, buf[have:])
		have += n
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return nil, false, err
		}
		for {
			i := bytes.Index(buf[from:have], name)
			if i < 0 {
				from = max(from, have-len(name)+1) // no match starts before
				break
			}
			at := from + i
			j := at + len(name)
			for j < have && (isXMLSpace(buf[j]) || buf[j] == '/') {
				j++
			}
			if j == have && !eof {
				break // the tag goes on in the next block
			}
			if j < have && buf[j] == '>' && sheetDataEnd.Match(buf[max(0, at-overlap+len(name)):j+1]) {
				return io.MultiReader(bytes.NewReader(buf[j+1:have]), r), true, nil
			}
			from = at + 1
		}
		if eof {
			return nil, false, nil
		}
		// Keep what the search has not passed, and what comes before it
		// for the prefix: a tag may straddle two blocks.
		keep := max(0, from-overlap)
		copy(buf, buf[keep:have])
		have, from = have-keep, from-keep
		if have == len(buf) {
			return nil, false, nil // a tag as long as a block is no worksheet's
		}
	}
}

func parseRange(ref string) (cellRange, bool) {
	a, b, found := strings.Cut(ref, ":")
	if !found {
		b = a
	}
	c1, r1, ok1 := parseCellRef(a)
	c2, r2, ok2 := parseCellRef(b)
	if !ok1 || !ok2 || r1 == 0 || r2 == 0 {
		return cellRange{}, false
	}
	return cellRange{r1: min(r1, r2), c1: min(c1, c2), r2: max(r1, r2), c2: max(c1, c2)}, true
}

// parseCellRef splits "AB12" into column 28 and row 12 (row 0 if absent).
func parseCellRef(ref string) (col, row int, ok bool) {
	ref = strings.ReplaceAll(ref, "$", "")
	i := 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > maxXLSXCols {
			return 0, 0, false
		}
	}
	if i == 0 {
		return 0, 0, false
	}
	if i < len(ref) {
		n, err := strconv.Atoi(ref[i:])
		if err != nil || n < 1 || n > maxXLSXRows {
			return 0, 0, false
		}
		row = n
	}
	return col, row, true
}

// mergeFill copies the top-left value of each merged range into every cell
// of it, including rows of the range the sheet stores nothing for. Rows come
// in ascending order, so only the ranges around the current row are looked
// at: a sheet with many merges costs no more per row than one with few.
type mergeFill struct {
	waiting []*mergeRange // not reached yet, by first row
	open    []*mergeRange // reached and not yet passed
}

type mergeRange struct {
	cellRange
	value string // the top-left value, once the top row was read
	seen  bool
}

// add takes a range found while reading, at its top row: ranges must come
// in the order of their first rows.
func (m *mergeFill) add(rg cellRange) {
	m.waiting = append(m.waiting, &mergeRange{cellRange: rg})
}

func newMergeFill(ranges []cellRange) *mergeFill {
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].r1 < ranges[j].r1 })
	m := &mergeFill{waiting: make([]*mergeRange, len(ranges))}
	for i, rg := range ranges {
		m.waiting[i] = &mergeRange{cellRange: rg}
	}
	return m
}

// advance opens the ranges that start at or before row and forgets those
// that ended before it.
func (m *mergeFill) advance(row int) {
	for len(m.waiting) > 0 && m.waiting[0].r1 <= row {
		m.open = append(m.open, m.waiting[0])
		m.waiting = m.waiting[1:]
	}
	kept := m.open[:0]
	for _, rg := range m.open {
		if rg.r2 >= row {
			kept = append(kept, rg)
		}
	}
	m.open = kept
}

// apply fills row (1-based number) in place and returns it.
func (m *mergeFill) apply(row int, cells []string) []string {
	m.advance(row)
	for _, rg := range m.open {
		if row == rg.r1 && !rg.seen {
			rg.seen = true
			if rg.c1-1 < len(cells) {
				rg.value = cells[rg.c1-1]
			}
		}
		if rg.value == "" {
			continue
		}
		for len(cells) < rg.c2 {
			cells = append(cells, "")
		}
		for c := rg.c1; c <= rg.c2; c++ {
			cells[c-1] = rg.value
		}
	}
	return cells
}

// maxMergeGapRows: a merged range taller than this (a whole column merged
// for looks) fills the rows the file stores but creates no rows of its own,
// so it cannot turn into a million rows of one repeated value.
const maxMergeGapRows = 1000

// gapRows lists the rows after prev and before next (exclusive) that a
// merged range with a known value covers: rows without data in the file that
// still show the merged value. Only open ranges can have a known value.
func (m *mergeFill) gapRows(prev, next int) []int {
	set := map[int]bool{}
	for _, rg := range m.open {
		if rg.value == "" || rg.r2-rg.r1 >= maxMergeGapRows {
			continue
		}
		for r := max(rg.r1, prev+1); r <= min(rg.r2, next-1); r++ {
			set[r] = true
		}
	}
	rows := make([]int, 0, len(set))
	for r := range set {
		rows = append(rows, r)
	}
	sort.Ints(rows)
	return rows
}

// rowQueue orders the rows a sheet reader produces and adds the rows that
// only merged cells give a value (rows the file stores nothing for).
type rowQueue struct {
	merges  *mergeFill
	lastRow int
	pending []pendingRow
	done    bool
}

type pendingRow struct {
	number int
	cells  []string
}

func (q *rowQueue) push(number int, cells []string) {
	if q.merges != nil {
		for _, r := range q.merges.gapRows(q.lastRow, number) {
			q.pending = append(q.pending, pendingRow{r, q.merges.apply(r, nil)})
		}
		cells = q.merges.apply(number, cells)
	}
	q.pending = append(q.pending, pendingRow{number, cells})
	q.lastRow = max(q.lastRow, number)
}

// finish marks the end of the sheet; merged rows after the last stored row
// are still to come.
func (q *rowQueue) finish() {
	q.done = true
	if q.merges != nil {
		for _, r := range q.merges.gapRows(q.lastRow, maxXLSXRows+1) {
			q.pending = append(q.pending, pendingRow{r, q.merges.apply(r, nil)})
		}
	}
}

// next returns the next queued row, calling fill to read more of the file
// while the queue is empty.
func (q *rowQueue) next(fill func() error) ([]string, int, error) {
	for len(q.pending) == 0 {
		if q.done {
			return nil, 0, io.EOF
		}
		if err := fill(); err != nil {
			return nil, 0, err
		}
	}
	p := q.pending[0]
	q.pending = q.pending[1:]
	return p.cells, p.number, nil
}

// xlsxSheetSource streams the rows of one worksheet part.
type xlsxSheetSource struct {
	rowQueue
	wb *xlsxWorkbook
	rc io.ReadCloser
	x  *xmlScanner
	// v and inline collect a cell's value and inline text.
	v, inline cellBuffer
	cutCells  cutLog
}

func (s *xlsxSheetSource) cuts(row int) map[int]int { return s.cutCells.take(row) }

func (wb *xlsxWorkbook) newSheetSource(part string, merges []cellRange) (*xlsxSheetSource, error) {
	rc, err := wb.pkg.open(part)
	if err != nil {
		return nil, err
	}
	x, err := newXMLScanner(rc)
	if err != nil {
		rc.Close()
		return nil, corrupt("the sheet cannot be read", err)
	}
	s := &xlsxSheetSource{wb: wb, rc: rc, x: x}
	if len(merges) > 0 {
		s.merges = newMergeFill(merges)
	}
	return s, nil
}

func (s *xlsxSheetSource) close() error { return s.rc.Close() }

func (s *xlsxSheetSource) next() ([]string, int, error) { return s.rowQueue.next(s.readNext) }

// readNext reads XML up to the next <row> (or the end of the sheet data) and
// queues it.
func (s *xlsxSheetSource) readNext() error {
	for {
		t, err := s.x.next()
		if err == io.EOF {
			s.finish()
			return nil
		}
		if err != nil {
			return s.damaged(err)
		}
		switch {
		case t.is(xmlStart, "row"):
			number := s.lastRow + 1
			if v := t.attr("r"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > maxXLSXRows {
					return s.damaged(fmt.Errorf("row number %q", v))
				}
				number = n
			}
			cells, cuts, err := s.readRow(number)
			if err != nil {
				return err
			}
			for col, n := range cuts {
				s.cutCells.add(number, col, n)
			}
			s.push(number, cells)
			return nil
		case t.is(xmlEnd, "sheetData"):
			s.finish()
			return nil
		}
	}
}

func (s *xlsxSheetSource) damaged(err error) error {
	fe := corrupt("the sheet is damaged and cannot be read to the end", err)
	fe.Row = s.lastRow + 1
	return fe
}

// readRow reads the cells of the current <row> up to its end tag.
// It also returns the cells cut to MaxCellBytes (0-based column ->
// length in characters).
func (s *xlsxSheetSource) readRow(number int) (cells []string, cuts map[int]int, err error) {
	col, size := 0, 0
	for {
		t, err := s.x.next()
		if err != nil {
			return nil, nil, s.damaged(err)
		}
		switch t.kind {
		case xmlStart:
			if string(t.name) != "c" {
				if err := s.x.skip(); err != nil {
					return nil, nil, s.damaged(err)
				}
				continue
			}
			col++
			if ref := t.attr("r"); ref != "" {
				c, _, ok := parseCellRef(ref)
				if !ok {
					return nil, nil, s.damaged(fmt.Errorf("cell reference %q", ref))
				}
				col = c
			}
			v, cut, err := s.readCell(t.attr("t"), t.attr("s"))
			if err != nil {
				return nil, nil, err
			}
			if v == "" {
				continue
			}
			// Checked as the row grows, not once it is whole.
			if size += len(v); size > MaxRowBytes {
				return nil, nil, rowTooLarge(number)
			}
			if cut > 0 {
				if cuts == nil {
					cuts = map[int]int{}
				}
				cuts[col-1] = cut
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells[col-1] = v
		case xmlEnd:
			if string(t.name) == "row" {
				return cells, cuts, nil
			}
		}
	}
}

// readCell reads the rest of a <c> element of that type and style and
// returns the text the user sees, in the canonical form an import wants
// (ISO dates, plain numbers).
func (s *xlsxSheetSource) readCell(typ, style string) (v string, cut int, err error) {
	s.v.reset()
	s.inline.reset()
	hasInline := false
	where := ""
	phonetic := 0
	for {
		t, err := s.x.next()
		if err != nil {
			return "", 0, s.damaged(err)
		}
		switch t.kind {
		case xmlStart:
			switch string(t.name) {
			case "v":
				where = "v"
			case "is":
				hasInline = true
			case "t":
				if hasInline && phonetic == 0 {
					where = "t"
				}
			case "rPh":
				phonetic++
			case "f":
				if err := s.x.skip(); err != nil { // the formula text; its cached result is in <v>
					return "", 0, s.damaged(err)
				}
			}
		case xmlEnd:
			switch string(t.name) {
			case "c":
				return s.cellValue(typ, style, hasInline)
			case "v", "t":
				where = ""
			case "rPh":
				phonetic--
			}
		case xmlText:
			switch where {
			case "v":
				s.v.write(t.text)
				s.v.dropped(t.dropped)
			case "t":
				s.inline.write(t.text)
				s.inline.dropped(t.dropped)
			}
		}
	}
}

// cellValue is the cell's text from what readCell collected, and its
// length when it was cut.
func (s *xlsxSheetSource) cellValue(typ, style string, hasInline bool) (string, int, error) {
	v := string(s.v.b)
	switch typ {
	case "s":
		if v == "" {
			return "", 0, nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(s.wb.sst) {
			return "", 0, s.damaged(fmt.Errorf("shared string index %q", v))
		}
		return s.wb.sst[i], s.wb.sstCut[i], nil
	case "inlineStr":
		if hasInline {
			return decodeXString(string(s.inline.b)), s.inline.cutChars(), nil
		}
		return decodeXString(v), s.v.cutChars(), nil
	case "str", "e":
		return decodeXString(v), s.v.cutChars(), nil
	}
	v, err := s.plainValue(typ, style, v)
	return v, s.v.cutChars(), err
}

// plainValue is a cell's text when it is no string: a boolean, a date or a
// number.
func (s *xlsxSheetSource) plainValue(typ, style, v string) (string, error) {
	switch typ {
	case "b":
		switch strings.TrimSpace(v) {
		case "1", "true":
			return "TRUE", nil
		case "0", "false":
			return "FALSE", nil
		}
		return v, nil
	case "d":
		return formatISODate(v), nil
	}
	if v == "" {
		return "", nil
	}
	return formatNumberCell(v, s.styleKind(style), s.wb.date1904), nil
}

func (s *xlsxSheetSource) styleKind(style string) dateKind {
	if style == "" {
		return notDate
	}
	i, err := strconv.Atoi(style)
	if err != nil || i < 0 || i >= len(s.wb.styles) {
		return notDate
	}
	return s.wb.styles[i]
}

// xstringEscape is OOXML's escape for characters XML cannot carry (and for
// a literal "_x"): _xHHHH_.
var xstringEscape = regexp.MustCompile(`_x[0-9A-Fa-f]{4}_`)

func decodeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	return xstringEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[2:6], 16, 16)
		return string(rune(n))
	})
}

// dateKind says how a number format shows a number.
type dateKind uint8

const (
	notDate  dateKind = iota
	dateFmt           // a date, possibly with a time
	timeOnly          // a time of day or a duration
)

// classifyNumFmt classifies number format id, whose format code is code
// when the file defines it (custom formats, and built-ins a file overrides).
func classifyNumFmt(id int, code string, hasCode bool) dateKind {
	if hasCode {
		return classifyFormatCode(code)
	}
	switch {
	case id >= 14 && id <= 17, id == 22, id >= 27 && id <= 36, id >= 50 && id <= 58:
		return dateFmt // built-in dates (27-36 and 50-58: East Asian locales)
	case id >= 18 && id <= 21, id >= 45 && id <= 47:
		return timeOnly
	}
	return notDate
}

// classifyFormatCode looks for date and time tokens (y m d h s) in the
// positive section of a format code, outside literal text ("..." \x _x *x)
// and brackets ([Red], [$-405]; [h] [mm] [ss] are elapsed time).
func classifyFormatCode(code string) dateKind {
	var hasDate, hasMonth, hasTime bool
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch c {
		case ';':
			i = len(code) // only the first section
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				i = len(code)
				continue
			}
			inner := strings.ToLower(code[i+1 : i+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				hasTime = true
			}
			i += j
		default:
			switch c | 0x20 {
			case 'y', 'd':
				hasDate = true
			case 'm':
				hasMonth = true
			case 'h', 's':
				hasTime = true
			}
		}
	}
	switch {
	case hasDate, hasMonth && !hasTime:
		return dateFmt
	case hasTime:
		return timeOnly
	}
	return notDate
}

// formatNumberCell renders a numeric cell: dates and times in ISO form,
// other numbers as Excel shows them at most (15 significant digits, no
// exponent: a phone number stays its digits).
func formatNumberCell(raw string, kind dateKind, date1904 bool) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return raw
	}
	if kind != notDate {
		if s, ok := serialToISO(f, date1904, kind); ok {
			return s
		}
	}
	return formatFloat(f)
}

// formatFloat prints f with Excel's precision of 15 significant digits and
// without an exponent, so 0.1+0.2 reads 0.3 and 420777123456 stays digits.
func formatFloat(f float64) string {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		r = f
	}
	if r == 0 {
		return "0" // also for -0
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// maxExcelSerial is 9999-12-31, the last date Excel can show.
const maxExcelSerial = 2958465

// serialToISO turns an Excel date serial into "2006-01-02", "2006-01-02
// 15:04" (seconds only when not zero) or, for time formats below one day,
// "15:04".
func serialToISO(serial float64, date1904 bool, kind dateKind) (string, bool) {
	if serial < 0 || serial > maxExcelSerial+1 {
		return "", false
	}
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case serial < 61:
		// Excel's 1900 system counts the non-existent 1900-02-29 (serial
		// 60); before it, serial 1 is 1900-01-01.
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	}
	secs := int64(math.Round(serial * 86400))
	t := base.Add(time.Duration(secs) * time.Second)
	clock := "15:04"
	if t.Second() != 0 {
		clock = "15:04:05"
	}
	switch {
	case kind == timeOnly && serial < 1:
		return t.Format(clock), true
	case secs%86400 == 0:
		return t.Format("2006-01-02"), true
	default:
		return t.Format("2006-01-02 " + clock), true
	}
}

// formatISODate normalizes a t="d" cell (an ISO 8601 text) to our forms.
func formatISODate(v string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		t, err := time.Parse(layout, strings.TrimSpace(v))
		if err != nil {
			continue
		}
		switch {
		case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0:
			return t.Format("2006-01-02")
		case t.Second() == 0:
			return t.Format("2006-01-02 15:04")
		default:
			return t.Format("2006-01-02 15:04:05")
		}
	}
	return v
}
