package spreadsheet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
)

// BIFF8 record ids used by the reader ([MS-XLS] 2.3).
const (
	recFormula     = 0x0006
	recEOF         = 0x000A
	recDateMode    = 0x0022
	recFilePass    = 0x002F
	recContinue    = 0x003C
	recBoundSheet  = 0x0085
	recMulRK       = 0x00BD
	recRString     = 0x00D6
	recXF          = 0x00E0
	recMergedCells = 0x00E5
	recSST         = 0x00FC
	recLabelSST    = 0x00FD
	recNumber      = 0x0203
	recLabel       = 0x0204
	recBoolErr     = 0x0205
	recString      = 0x0207
	recRK          = 0x027E
	recFormat      = 0x041E
	recBOF         = 0x0809

	biff8Version = 0x0600
)

var errBIFF = errors.New("damaged BIFF record")

// openOLE handles OLE2 compound files: legacy XLS workbooks, and the
// container an encrypted (password to open) XLSX is wrapped in.
func openOLE(r io.ReaderAt, size int64, opts Options) (*File, error) {
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, corrupt("the file looks like an old Excel workbook (.xls) but is damaged", err)
	}
	streams := map[string]*mscfb.File{}
	for {
		entry, err := doc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, corrupt("the file looks like an old Excel workbook (.xls) but is damaged", err)
		}
		if len(entry.Path) == 0 { // top-level streams only
			streams[entry.Name] = entry
		}
	}
	switch {
	case streams["EncryptedPackage"] != nil:
		return nil, passwordProtected()
	case streams["Workbook"] != nil:
		return openXLS(streams["Workbook"], opts)
	case streams["Book"] != nil:
		return nil, fileErr(CodeUnsupportedFormat, "the file is an Excel 5.0/95 workbook, which is too old to import; open it in Excel and save it as .xlsx")
	case streams["WordDocument"] != nil:
		return nil, fileErr(CodeUnsupportedFormat, "the file is a Word document, not a spreadsheet")
	case streams["PowerPoint Document"] != nil:
		return nil, fileErr(CodeUnsupportedFormat, "the file is a PowerPoint presentation, not a spreadsheet")
	}
	return nil, fileErr(CodeUnsupportedFormat, "the file is an Office compound document, not an Excel workbook")
}

func passwordProtected() *FileError {
	return fileErr(CodePasswordProtected, "the workbook is protected with a password to open it; remove the password in Excel and upload it again")
}

func openXLS(stream *mscfb.File, opts Options) (*File, error) {
	g, err := readGlobals(newBIFFReader(stream))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(g.sheets))
	hidden := make([]bool, len(g.sheets))
	for i, s := range g.sheets {
		names[i], hidden[i] = s.name, s.hidden
	}
	if len(names) == 0 {
		return nil, corrupt("the workbook lists no sheets", errBIFF)
	}
	book := &xlsBook{stream: stream, g: g}
	idx, err := pickSheet(names, hidden, opts, book.sheetHasContent)
	if err != nil {
		return nil, err
	}
	src, err := book.openSheet(idx)
	if err != nil {
		return nil, err
	}
	det := Detected{Format: FormatXLS, Sheet: names[idx], Sheets: names}
	return &File{det: det, src: src, code: CodeCorruptWorkbook}, nil
}

// biffReader reads records from a BIFF stream sequentially.
type biffReader struct {
	br     *bufio.Reader
	pushed *biffRecord // one record of look-ahead (for CONTINUE)
}

type biffRecord struct {
	id   uint16
	data []byte
}

func newBIFFReader(r io.Reader) *biffReader {
	return &biffReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next record; its data is a fresh slice.
func (b *biffReader) next() (biffRecord, error) {
	if p := b.pushed; p != nil {
		b.pushed = nil
		return *p, nil
	}
	var hdr [4]byte
	if _, err := io.ReadFull(b.br, hdr[:]); err != nil {
		if err == io.EOF {
			return biffRecord{}, io.EOF
		}
		return biffRecord{}, fmt.Errorf("record header: %w", err)
	}
	rec := biffRecord{id: binary.LittleEndian.Uint16(hdr[0:]), data: make([]byte, binary.LittleEndian.Uint16(hdr[2:]))}
	if _, err := io.ReadFull(b.br, rec.data); err != nil {
		return biffRecord{}, fmt.Errorf("record %#04x: %w", rec.id, err)
	}
	return rec, nil
}

// withContinues returns rec's data followed by the data of the CONTINUE
// records after it, one segment each: strings may be split across them.
func (b *biffReader) withContinues(rec biffRecord) ([][]byte, error) {
	segs := [][]byte{rec.data}
	for {
		nx, err := b.next()
		if err == io.EOF {
			return segs, nil
		}
		if err != nil {
			return nil, err
		}
		if nx.id != recContinue {
			b.pushed = &nx
			return segs, nil
		}
		segs = append(segs, nx.data)
	}
}

// xlsGlobals is what the workbook globals substream tells.
type xlsGlobals struct {
	date1904 bool
	formats  map[uint16]string
	xfFormat []uint16 // number format id of each XF
	xfKinds  []dateKind
	sheets   []xlsSheet
	sst      []string
}

type xlsSheet struct {
	name      string
	offset    uint32 // stream position of the sheet's BOF
	hidden    bool
	worksheet bool // false for chart sheets and macro sheets
}

func readGlobals(rr *biffReader) (*xlsGlobals, error) {
	first, err := rr.next()
	if err != nil || first.id != recBOF || len(first.data) < 4 {
		return nil, corrupt("the workbook stream does not start like an Excel workbook", errors.Join(errBIFF, err))
	}
	if v := binary.LittleEndian.Uint16(first.data); v != biff8Version {
		return nil, fileErr(CodeUnsupportedFormat, "the file is an Excel workbook older than Excel 97; open it in Excel and save it as .xlsx")
	}
	g := &xlsGlobals{formats: map[uint16]string{}}
	for {
		rec, err := rr.next()
		if err == io.EOF {
			break // tolerate a missing EOF record
		}
		if err != nil {
			return nil, corrupt("the workbook is damaged or incomplete", err)
		}
		if rec.id == recEOF {
			break
		}
		if err := g.handle(rr, rec); err != nil {
			return nil, err
		}
	}
	g.xfKinds = make([]dateKind, len(g.xfFormat))
	for i, id := range g.xfFormat {
		code, ok := g.formats[id]
		g.xfKinds[i] = classifyNumFmt(int(id), code, ok)
	}
	return g, nil
}

func (g *xlsGlobals) handle(rr *biffReader, rec biffRecord) error {
	d := rec.data
	switch rec.id {
	case recFilePass:
		return passwordProtected()
	case recDateMode:
		g.date1904 = len(d) >= 2 && binary.LittleEndian.Uint16(d) == 1
	case recXF:
		if len(d) >= 4 {
			g.xfFormat = append(g.xfFormat, binary.LittleEndian.Uint16(d[2:]))
		}
	case recFormat:
		if len(d) < 2 {
			return corrupt("a number format record is damaged", errBIFF)
		}
		code, err := (&contReader{segs: [][]byte{d[2:]}}).unicodeString(2)
		if err != nil {
			return corrupt("a number format record is damaged", err)
		}
		g.formats[binary.LittleEndian.Uint16(d)] = code
	case recBoundSheet:
		return g.addSheet(d)
	case recSST:
		segs, err := rr.withContinues(rec)
		if err != nil {
			return corrupt("the workbook is damaged or incomplete", err)
		}
		if g.sst, err = readSST(segs); err != nil {
			return corrupt("the workbook's shared text table is damaged", err)
		}
	}
	return nil
}

func (g *xlsGlobals) addSheet(d []byte) error {
	if len(d) < 8 {
		return corrupt("a sheet record is damaged", errBIFF)
	}
	name, err := (&contReader{segs: [][]byte{d[6:]}}).unicodeString(1)
	if err != nil {
		return corrupt("a sheet record is damaged", err)
	}
	g.sheets = append(g.sheets, xlsSheet{
		name:      name,
		offset:    binary.LittleEndian.Uint32(d),
		hidden:    d[4]&0x03 != 0,
		worksheet: d[5] == 0,
	})
	return nil
}

// readSST reads the shared string table: cstTotal, cstUnique, then the
// strings, which may run on into the CONTINUE records.
func readSST(segs [][]byte) ([]string, error) {
	c := &contReader{segs: segs}
	if _, err := c.u32(); err != nil {
		return nil, err
	}
	unique, err := c.u32()
	if err != nil {
		return nil, err
	}
	// Never trust a count for an allocation: each string takes 3 bytes at least.
	out := make([]string, 0, min(int(unique), c.remaining()/3+1))
	for i := uint32(0); i < unique; i++ {
		s, err := c.unicodeString(2)
		if err != nil {
			return nil, fmt.Errorf("string %d of %d: %w", i, unique, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// contReader reads a record's data split into segments (the record and its
// CONTINUE records). Plain reads flow across segments; character data that
// crosses into a new segment starts with a fresh option byte telling whether
// the rest is 8-bit or 16-bit ([MS-XLS] 2.5.293).
type contReader struct {
	segs [][]byte
	seg  int
	off  int
}

func (c *contReader) remaining() int {
	n := 0
	for i := c.seg; i < len(c.segs); i++ {
		n += len(c.segs[i])
	}
	return n - c.off
}

// advance moves past exhausted segments; false at the end of the data.
func (c *contReader) advance() bool {
	for c.seg < len(c.segs) && c.off >= len(c.segs[c.seg]) {
		c.seg++
		c.off = 0
	}
	return c.seg < len(c.segs)
}

func (c *contReader) byte() (byte, error) {
	if !c.advance() {
		return 0, io.ErrUnexpectedEOF
	}
	b := c.segs[c.seg][c.off]
	c.off++
	return b, nil
}

func (c *contReader) uint(n int) (uint32, error) {
	var v uint32
	for i := 0; i < n; i++ {
		b, err := c.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(b) << (8 * i)
	}
	return v, nil
}

func (c *contReader) u32() (uint32, error) { return c.uint(4) }

func (c *contReader) skip(n int) error {
	for n > 0 {
		if !c.advance() {
			return io.ErrUnexpectedEOF
		}
		k := min(n, len(c.segs[c.seg])-c.off)
		c.off += k
		n -= k
	}
	return nil
}

// unicodeString reads an XLUnicodeString (lenBytes 2), a
// ShortXLUnicodeString (lenBytes 1) or, in the SST, an
// XLUnicodeRichExtendedString (same header plus the rich and phonetic
// flags), skipping formatting runs and phonetic data.
func (c *contReader) unicodeString(lenBytes int) (string, error) {
	cch, err := c.uint(lenBytes)
	if err != nil {
		return "", err
	}
	flags, err := c.byte()
	if err != nil {
		return "", err
	}
	var runs, ext uint32
	if flags&0x08 != 0 {
		if runs, err = c.uint(2); err != nil {
			return "", err
		}
	}
	if flags&0x04 != 0 {
		if ext, err = c.u32(); err != nil {
			return "", err
		}
	}
	s, err := c.chars(int(cch), flags&0x01 != 0)
	if err != nil {
		return "", err
	}
	if err := c.skip(int(runs) * 4); err != nil {
		return "", err
	}
	if err := c.skip(int(ext)); err != nil {
		return "", err
	}
	return s, nil
}

// chars reads n characters, 8-bit (Latin-1, "compressed" UTF-16) or 16-bit.
func (c *contReader) chars(n int, wide bool) (string, error) {
	if n > c.remaining() {
		return "", io.ErrUnexpectedEOF
	}
	units := make([]uint16, 0, n)
	for len(units) < n {
		if c.seg < len(c.segs) && c.off >= len(c.segs[c.seg]) {
			// The characters continue in the next segment, which starts
			// with its own option byte.
			if !c.advance() {
				return "", io.ErrUnexpectedEOF
			}
			flags, _ := c.byte()
			wide = flags&0x01 != 0
		}
		if c.seg >= len(c.segs) {
			return "", io.ErrUnexpectedEOF
		}
		seg := c.segs[c.seg][c.off:]
		if wide {
			k := min(n-len(units), len(seg)/2)
			if k == 0 {
				return "", io.ErrUnexpectedEOF
			}
			for i := 0; i < k; i++ {
				units = append(units, binary.LittleEndian.Uint16(seg[2*i:]))
			}
			c.off += 2 * k
		} else {
			k := min(n-len(units), len(seg))
			for i := 0; i < k; i++ {
				units = append(units, uint16(seg[i]))
			}
			c.off += k
		}
	}
	return string(utf16.Decode(units)), nil
}

// xlsBook reads the sheets of a workbook stream, one pass at a time.
type xlsBook struct {
	stream *mscfb.File
	g      *xlsGlobals
}

// sheetReader positions a record reader at the sheet's BOF.
func (b *xlsBook) sheetReader(i int) (*biffReader, error) {
	off := int64(b.g.sheets[i].offset)
	if off <= 0 || off >= b.stream.Size {
		return nil, corrupt(fmt.Sprintf("sheet %q cannot be found in the file", b.g.sheets[i].name), errBIFF)
	}
	if _, err := b.stream.Seek(off, io.SeekStart); err != nil {
		return nil, corrupt(fmt.Sprintf("sheet %q cannot be read", b.g.sheets[i].name), err)
	}
	return newBIFFReader(io.LimitReader(b.stream, b.stream.Size-off)), nil
}

func (b *xlsBook) sheetHasContent(i int) (bool, error) {
	if !b.g.sheets[i].worksheet {
		return false, nil
	}
	rr, err := b.sheetReader(i)
	if err != nil {
		return false, err
	}
	return hasContent(&xlsSheetSource{g: b.g, rr: rr})
}

func (b *xlsBook) openSheet(i int) (rowSource, error) {
	if !b.g.sheets[i].worksheet {
		return emptySource{}, nil
	}
	rr, err := b.sheetReader(i)
	if err != nil {
		return nil, err
	}
	merges, err := readXLSMerges(rr)
	if err != nil {
		return nil, err
	}
	if rr, err = b.sheetReader(i); err != nil {
		return nil, err
	}
	src := &xlsSheetSource{g: b.g, rr: rr}
	if len(merges) > 0 {
		src.merges = newMergeFill(merges)
	}
	return src, nil
}

// readXLSMerges collects MERGEDCELLS ranges; Excel writes them after the
// cells, so this is a pass of its own (cheap: records are only skipped).
func readXLSMerges(rr *biffReader) ([]cellRange, error) {
	var merges []cellRange
	depth := 0
	for {
		rec, err := rr.next()
		if err == io.EOF {
			return merges, nil
		}
		if err != nil {
			return nil, corrupt("the sheet is damaged or incomplete", err)
		}
		switch rec.id {
		case recBOF:
			depth++
		case recEOF:
			if depth--; depth <= 0 {
				return merges, nil
			}
		case recMergedCells:
			if depth == 1 {
				merges = append(merges, parseMergedCells(rec.data)...)
			}
		}
	}
}

func parseMergedCells(d []byte) []cellRange {
	if len(d) < 2 {
		return nil
	}
	n := int(binary.LittleEndian.Uint16(d))
	var out []cellRange
	for i := 0; i < n && 2+8*i+8 <= len(d); i++ {
		p := d[2+8*i:]
		r1, r2 := int(binary.LittleEndian.Uint16(p)), int(binary.LittleEndian.Uint16(p[2:]))
		c1, c2 := int(binary.LittleEndian.Uint16(p[4:])), int(binary.LittleEndian.Uint16(p[6:]))
		if r1 <= r2 && c1 <= c2 {
			out = append(out, cellRange{r1: r1 + 1, c1: c1 + 1, r2: r2 + 1, c2: c2 + 1})
		}
	}
	return out
}

// xlsSheetSource streams the rows of one sheet substream. BIFF stores cells
// row by row, so a row is complete when a cell of another row arrives.
type xlsSheetSource struct {
	rowQueue
	g     *xlsGlobals
	rr    *biffReader
	depth int // BOF nesting: embedded charts have their own substreams
	row   int // 1-based row being collected, 0 before the first cell
	cells []string
	// formula waits for its STRING record (a formula's text result).
	formula  *cellAt
	cutCells cutLog
}

type cellAt struct{ row, col int }

func (s *xlsSheetSource) close() error { return nil }

func (s *xlsSheetSource) cuts(row int) map[int]int { return s.cutCells.take(row) }

func (s *xlsSheetSource) next() ([]string, int, error) { return s.rowQueue.next(s.readNext) }

// readNext reads records until a row is complete (or the sheet ends).
func (s *xlsSheetSource) readNext() error {
	for len(s.pending) == 0 && !s.done {
		rec, err := s.rr.next()
		if err == io.EOF {
			s.end()
			return nil
		}
		if err != nil {
			return s.damaged(err)
		}
		if err := s.handle(rec); err != nil {
			return err
		}
	}
	return nil
}

func (s *xlsSheetSource) end() {
	if s.row > 0 {
		s.push(s.row, s.cells)
		s.row, s.cells = 0, nil
	}
	s.finish()
}

func (s *xlsSheetSource) damaged(err error) error {
	fe := corrupt("the sheet is damaged and cannot be read to the end", err)
	fe.Row = max(s.row, s.lastRow+1)
	return fe
}

func (s *xlsSheetSource) handle(rec biffRecord) error {
	switch rec.id {
	case recBOF:
		s.depth++
		return nil
	case recEOF:
		if s.depth--; s.depth <= 0 {
			s.end()
		}
		return nil
	}
	if s.depth != 1 {
		return nil // inside an embedded chart
	}
	d := rec.data
	switch rec.id {
	case recLabelSST:
		if len(d) < 10 {
			return s.damaged(errBIFF)
		}
		i := binary.LittleEndian.Uint32(d[6:])
		if int(i) >= len(s.g.sst) {
			return s.damaged(fmt.Errorf("shared string %d of %d", i, len(s.g.sst)))
		}
		return s.set(d, s.g.sst[i])
	case recLabel, recRString:
		if len(d) < 8 {
			return s.damaged(errBIFF)
		}
		segs, err := s.rr.withContinues(rec)
		if err != nil {
			return s.damaged(err)
		}
		segs[0] = segs[0][6:]
		v, err := (&contReader{segs: segs}).unicodeString(2)
		if err != nil {
			return s.damaged(err)
		}
		return s.set(d, v)
	case recNumber:
		if len(d) < 14 {
			return s.damaged(errBIFF)
		}
		return s.set(d, s.number(d[4:], math.Float64frombits(binary.LittleEndian.Uint64(d[6:]))))
	case recRK:
		if len(d) < 10 {
			return s.damaged(errBIFF)
		}
		return s.set(d, s.number(d[4:], rkValue(binary.LittleEndian.Uint32(d[6:]))))
	case recMulRK:
		return s.mulRK(d)
	case recBoolErr:
		if len(d) < 8 {
			return s.damaged(errBIFF)
		}
		return s.set(d, boolErrText(d[6], d[7] != 0))
	case recFormula:
		return s.formulaResult(d)
	case recString:
		return s.stringResult(rec)
	}
	return nil
}

// set stores value at the row and column of a cell record (first 4 bytes).
func (s *xlsSheetSource) set(d []byte, value string) error {
	return s.setAt(int(binary.LittleEndian.Uint16(d))+1, int(binary.LittleEndian.Uint16(d[2:]))+1, value)
}

func (s *xlsSheetSource) setAt(row, col int, value string) error {
	if col > maxXLSXCols {
		return s.damaged(fmt.Errorf("column %d", col))
	}
	if row != s.row {
		if s.row > 0 {
			s.push(s.row, s.cells)
		}
		s.row, s.cells = row, nil
	}
	if value == "" {
		return nil
	}
	if len(value) > MaxCellBytes { // a BIFF string holds up to 65,535 characters
		var c cellBuffer
		c.write([]byte(value))
		value = string(c.b)
		s.cutCells.add(row, col-1, c.cutChars())
	}
	for len(s.cells) < col {
		s.cells = append(s.cells, "")
	}
	s.cells[col-1] = value
	return nil
}

// number formats a numeric cell by its XF (at xf[0:2]).
func (s *xlsSheetSource) number(xf []byte, v float64) string {
	kind := notDate
	if i := int(binary.LittleEndian.Uint16(xf)); i < len(s.g.xfKinds) {
		kind = s.g.xfKinds[i]
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return ""
	}
	if kind != notDate {
		if iso, ok := serialToISO(v, s.g.date1904, kind); ok {
			return iso
		}
	}
	return formatFloat(v)
}

func (s *xlsSheetSource) mulRK(d []byte) error {
	if len(d) < 6 {
		return s.damaged(errBIFF)
	}
	row := int(binary.LittleEndian.Uint16(d)) + 1
	col := int(binary.LittleEndian.Uint16(d[2:])) + 1
	for p := d[4 : len(d)-2]; len(p) >= 6; p = p[6:] {
		if err := s.setAt(row, col, s.number(p, rkValue(binary.LittleEndian.Uint32(p[2:])))); err != nil {
			return err
		}
		col++
	}
	return nil
}

// formulaResult stores a formula's cached result; a text result follows in
// a STRING record.
func (s *xlsSheetSource) formulaResult(d []byte) error {
	if len(d) < 14 {
		return s.damaged(errBIFF)
	}
	res := d[6:14]
	if binary.LittleEndian.Uint16(res[6:]) != 0xFFFF {
		return s.set(d, s.number(d[4:], math.Float64frombits(binary.LittleEndian.Uint64(res))))
	}
	switch res[0] {
	case 0: // text: in the next STRING record
		s.formula = &cellAt{int(binary.LittleEndian.Uint16(d)) + 1, int(binary.LittleEndian.Uint16(d[2:])) + 1}
		return s.set(d, "")
	case 1:
		return s.set(d, boolErrText(res[2], false))
	case 2:
		return s.set(d, boolErrText(res[2], true))
	}
	return s.set(d, "") // 3: empty text
}

func (s *xlsSheetSource) stringResult(rec biffRecord) error {
	segs, err := s.rr.withContinues(rec)
	if err != nil {
		return s.damaged(err)
	}
	at := s.formula
	s.formula = nil
	if at == nil || at.row != s.row {
		return nil // a STRING without its FORMULA: nothing to attach it to
	}
	v, err := (&contReader{segs: segs}).unicodeString(2)
	if err != nil {
		return s.damaged(err)
	}
	return s.setAt(at.row, at.col, v)
}

// rkValue decodes an RK number: a 30-bit integer or the high 30 bits of a
// double, optionally divided by 100.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&0x02 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&0xFFFFFFFC) << 32)
	}
	if rk&0x01 != 0 {
		v /= 100
	}
	return v
}

// boolErrText renders a boolean or an error code as Excel shows it.
func boolErrText(v byte, isErr bool) string {
	if !isErr {
		if v != 0 {
			return "TRUE"
		}
		return "FALSE"
	}
	switch v {
	case 0x00:
		return "#NULL!"
	case 0x07:
		return "#DIV/0!"
	case 0x0F:
		return "#VALUE!"
	case 0x17:
		return "#REF!"
	case 0x1D:
		return "#NAME?"
	case 0x24:
		return "#NUM!"
	case 0x2A:
		return "#N/A"
	}
	return "#ERROR!"
}
