package spreadsheet

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ODS, LibreOffice's own format, is a zip like XLSX with every sheet in one
// part, content.xml. It is read with the worksheet scanner, one row at a
// time: a first pass lists the sheets (names, hidden, whether they hold
// anything), a second streams the chosen one. Cells carry their value by
// type (office:value-type): numbers in office:value, dates in
// office:date-value, so neither depends on how the cell is displayed.
// LibreOffice writes the unused rest of a sheet as one row or cell
// repeated thousands of times (table:number-rows-repeated,
// table:number-columns-repeated); blank repetitions only move the row or
// column number, and a repeated row with content is handed out one copy
// at a time, so no repetition is ever expanded in memory.

const (
	odsMimeType       = "application/vnd.oasis.opendocument.spreadsheet"
	odsMimeTypePrefix = "application/vnd.oasis.opendocument."
)

// maxSpaces bounds a <text:s text:c="n"/>: a run of spaces longer than a
// cell shows is not worth allocating.
const maxSpaces = 1000

var (
	spaces  = bytes.Repeat([]byte{' '}, maxSpaces)
	newline = []byte{'\n'}
	tab     = []byte{'\t'}
)

// odfMimeType reads the package's mimetype part ("" without one).
func (p *zipPackage) odfMimeType() (string, error) {
	if !p.has("mimetype") {
		return "", nil
	}
	rc, err := p.open("mimetype")
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 200))
	if err != nil {
		return "", corrupt("the workbook part mimetype cannot be read", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// isODS tells an OpenDocument spreadsheet by its mimetype, or, for a
// writer that left the mimetype out, by a content.xml without any OOXML
// workbook beside it.
func (p *zipPackage) isODS() (bool, error) {
	mt, err := p.odfMimeType()
	if err != nil {
		return false, err
	}
	switch {
	case mt == odsMimeType:
		return true, nil
	case strings.HasPrefix(mt, odsMimeTypePrefix):
		return false, fileErr(CodeUnsupportedFormat, "the file is an OpenDocument file but not a spreadsheet (.ods)")
	}
	return mt == "" && p.has("content.xml") && !p.has("xl/workbook.xml"), nil
}

// encrypted tells a password-protected ODF package: its manifest gives the
// parts' encryption data (the parts themselves are unreadable bytes).
func (p *zipPackage) encrypted() (bool, error) {
	if !p.has("META-INF/manifest.xml") {
		return false, nil
	}
	rc, err := p.open("META-INF/manifest.xml")
	if err != nil {
		return false, err
	}
	defer rc.Close()
	x, err := newXMLScanner(rc)
	if err != nil {
		return false, corrupt("the workbook's manifest is damaged", err)
	}
	for {
		t, err := x.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, corrupt("the workbook's manifest is damaged", err)
		}
		if t.is(xmlStart, "encryption-data") {
			return true, nil
		}
	}
}

func openODS(pkg *zipPackage, opts Options) (*File, error) {
	if enc, err := pkg.encrypted(); err != nil {
		return nil, err
	} else if enc {
		return nil, fileErr(CodePasswordProtected, "the spreadsheet is protected with a password to open it; remove the password in LibreOffice and upload it again")
	}
	sheets, err := listODSSheets(pkg)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(sheets))
	hidden := make([]bool, len(sheets))
	for i, s := range sheets {
		names[i], hidden[i] = s.name, s.hidden
	}
	idx, err := pickSheet(names, hidden, opts, func(i int) (bool, error) { return sheets[i].content, nil })
	if err != nil {
		return nil, err
	}
	src, err := openODSSheet(pkg, idx)
	if err != nil {
		return nil, err
	}
	det := Detected{Format: FormatODS, Sheet: names[idx], Sheets: names}
	return &File{det: det, src: src, code: CodeCorruptWorkbook}, nil
}

// odsSheet is what the first pass learns of a sheet.
type odsSheet struct {
	name    string
	hidden  bool
	content bool // a cell with a value or text
}

// listODSSheets reads content.xml once for its sheets. A sheet is hidden
// by its automatic style (table:display="false"), which comes before the
// body.
func listODSSheets(pkg *zipPackage) ([]odsSheet, error) {
	rc, err := pkg.open("content.xml")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	x, err := newXMLScanner(rc)
	if err != nil {
		return nil, corrupt("the spreadsheet cannot be read", err)
	}
	hiddenStyles := map[string]bool{}
	var (
		sheets    []odsSheet
		style     string // the table style being read
		tableOpen bool
		inCell    int
		rows      int // rows of the open sheet so far, for the row a damage is at
		rowRepeat int
	)
	damaged := func(err error) error {
		fe := corrupt("the spreadsheet's content is damaged", err)
		if tableOpen {
			fe.Row = rows + 1
		}
		return fe
	}
	for {
		t, err := x.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, damaged(err)
		}
		switch t.kind {
		case xmlStart:
			switch string(t.name) {
			case "style":
				if !tableOpen && t.attr("family") == "table" {
					style = t.attr("name")
				}
			case "table-properties":
				if style != "" && t.attr("display") == "false" {
					hiddenStyles[style] = true
				}
			case "table":
				if tableOpen {
					if err := x.skip(); err != nil {
						return nil, damaged(err)
					}
					continue
				}
				tableOpen, rows = true, 0
				sheets = append(sheets, odsSheet{name: t.attr("name"), hidden: hiddenStyles[t.attr("style-name")]})
			case "table-row":
				rowRepeat = repeatCount(t.attr("number-rows-repeated"), maxXLSXRows)
			case "table-cell", "covered-table-cell":
				if tableOpen {
					inCell++
					if t.attr("value-type") != "" {
						sheets[len(sheets)-1].content = true
					}
				}
			case "annotation":
				if err := x.skip(); err != nil { // a comment is not the cell's content
					return nil, damaged(err)
				}
			}
		case xmlEnd:
			switch string(t.name) {
			case "table-row":
				if tableOpen {
					rows = min(rows+rowRepeat, maxXLSXRows)
				}
			case "style":
				style = ""
			case "table":
				tableOpen = false
			case "table-cell", "covered-table-cell":
				inCell--
			}
		case xmlText:
			if inCell > 0 && !isBlank(string(t.text)) {
				sheets[len(sheets)-1].content = true
			}
		}
	}
	if len(sheets) == 0 {
		return nil, corrupt("the spreadsheet has no sheets", errWorkbook)
	}
	return sheets, nil
}

// odsSheetSource streams the rows of one sheet of content.xml.
type odsSheetSource struct {
	rowQueue
	rc     io.ReadCloser
	x      *xmlScanner
	rowNum int // the number of the last row read, repetitions counted
	// A row with content repeated: handed out one copy at a time.
	repeat     []string
	repeatCuts map[int]int
	repeatLeft int
	text       cellBuffer
	cutCells   cutLog
}

// openODSSheet positions a scanner on the idx-th sheet's first element.
func openODSSheet(pkg *zipPackage, idx int) (*odsSheetSource, error) {
	rc, err := pkg.open("content.xml")
	if err != nil {
		return nil, err
	}
	x, err := newXMLScanner(rc)
	if err != nil {
		rc.Close()
		return nil, corrupt("the spreadsheet cannot be read", err)
	}
	s := &odsSheetSource{rc: rc, x: x, rowQueue: rowQueue{merges: newMergeFill(nil)}}
	for n := 0; ; {
		t, err := x.next()
		if err != nil {
			rc.Close()
			return nil, corrupt("the spreadsheet's content is damaged", err)
		}
		if !t.is(xmlStart, "table") {
			continue
		}
		if n == idx {
			return s, nil
		}
		n++
		if err := x.skip(); err != nil {
			rc.Close()
			return nil, corrupt("the spreadsheet's content is damaged", err)
		}
	}
}

func (s *odsSheetSource) close() error { return s.rc.Close() }

func (s *odsSheetSource) cuts(row int) map[int]int { return s.cutCells.take(row) }

func (s *odsSheetSource) logCuts(row int, cuts map[int]int) {
	for col, n := range cuts {
		s.cutCells.add(row, col, n)
	}
}

func (s *odsSheetSource) next() ([]string, int, error) { return s.rowQueue.next(s.readNext) }

func (s *odsSheetSource) damaged(err error) error {
	fe := corrupt("the sheet is damaged and cannot be read to the end", err)
	fe.Row = s.rowNum + 1
	return fe
}

// readNext queues the next row with content, or finishes at the sheet's end.
func (s *odsSheetSource) readNext() error {
	if s.repeatLeft > 0 {
		s.repeatLeft--
		s.rowNum++
		s.logCuts(s.rowNum, s.repeatCuts)
		s.push(s.rowNum, append([]string(nil), s.repeat...))
		return nil
	}
	for {
		t, err := s.x.next()
		if err != nil {
			return s.damaged(err)
		}
		switch t.kind {
		case xmlEnd:
			if string(t.name) == "table" {
				s.finish()
				return nil
			}
		case xmlStart:
			switch string(t.name) {
			case "table-header-rows", "table-row-group", "table-rows":
				// Containers of rows: their rows are the sheet's rows.
			case "table-row":
				repeat := repeatCount(t.attr("number-rows-repeated"), maxXLSXRows)
				number := s.rowNum + 1
				cells, cuts, err := s.readRow(number)
				if err != nil {
					return err
				}
				if len(trimTrailingEmpty(cells)) == 0 {
					// Blank: only the row number moves (merged values of
					// these rows come from the queue's gap rows).
					s.rowNum = min(s.rowNum+repeat, maxXLSXRows+1)
					continue
				}
				if number+repeat-1 > maxXLSXRows {
					return s.damaged(fmt.Errorf("row %d is beyond the last row a spreadsheet has", number+repeat-1))
				}
				s.rowNum = number
				if repeat > 1 {
					s.repeat, s.repeatCuts, s.repeatLeft = cells, cuts, repeat-1
					cells = append([]string(nil), cells...)
				}
				s.logCuts(number, cuts)
				s.push(number, cells)
				return nil
			default:
				// Columns, shapes, forms, named ranges: nothing to import.
				if err := s.x.skip(); err != nil {
					return s.damaged(err)
				}
			}
		}
	}
}

// repeatCount reads a number-*-repeated attribute: 1 when absent or
// nonsense, at most limit+1 (beyond the grid either way).
func repeatCount(v string, limit int) int {
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	return min(n, limit+1)
}

// readRow reads the cells of the current <table:row> up to its end tag;
// number is the row's number, for the merged ranges that start in it.
// It also returns the cells cut to MaxCellBytes (0-based column ->
// length in characters).
func (s *odsSheetSource) readRow(number int) (cells []string, cuts map[int]int, err error) {
	col := 0 // cells before the current one
	for {
		t, err := s.x.next()
		if err != nil {
			return nil, nil, s.damaged(err)
		}
		switch t.kind {
		case xmlEnd:
			if string(t.name) == "table-row" {
				return cells, cuts, nil
			}
		case xmlStart:
			name := string(t.name)
			if name != "table-cell" && name != "covered-table-cell" {
				if err := s.x.skip(); err != nil {
					return nil, nil, s.damaged(err)
				}
				continue
			}
			repeat := repeatCount(t.attr("number-columns-repeated"), maxXLSXCols)
			spanCols := repeatCount(t.attr("number-columns-spanned"), maxXLSXCols)
			spanRows := repeatCount(t.attr("number-rows-spanned"), maxXLSXRows)
			v, cut, err := s.readCell(t)
			if err != nil {
				return nil, nil, err
			}
			if v != "" && col < maxXLSXCols {
				last := min(col+repeat, maxXLSXCols)
				for len(cells) < last {
					cells = append(cells, "")
				}
				for c := col; c < last; c++ {
					cells[c] = v
					if cut > 0 {
						if cuts == nil {
							cuts = map[int]int{}
						}
						cuts[c] = cut
					}
				}
				if name == "table-cell" && (spanCols > 1 || spanRows > 1) {
					s.merges.add(cellRange{r1: number, c1: col + 1, r2: min(number+spanRows-1, maxXLSXRows), c2: min(col+spanCols, maxXLSXCols)})
				}
			}
			col = min(col+repeat, maxXLSXCols)
		}
	}
}

// readCell reads the rest of a cell whose start tag is t and returns the
// value an import wants: numbers plain, dates and times in ISO form,
// text as shown (paragraphs on lines of their own), and the text's length
// in characters when it was cut to MaxCellBytes.
func (s *odsSheetSource) readCell(t *xmlToken) (string, int, error) {
	typ := t.attr("value-type")
	var attrValue string
	switch typ {
	case "float", "percentage", "currency":
		attrValue = formatNumberCell(t.attr("value"), notDate, false)
	case "date":
		attrValue = formatISODate(t.attr("date-value"))
	case "time":
		attrValue = formatODSTime(t.attr("time-value"))
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(t.attr("boolean-value"))) {
		case "true":
			attrValue = "TRUE"
		case "false":
			attrValue = "FALSE"
		}
	case "string":
		attrValue = t.attr("string-value")
	}
	text, cut, err := s.cellText()
	if err != nil {
		return "", 0, err
	}
	if attrValue == "" {
		return text, cut, nil
	}
	if len(attrValue) > MaxCellBytes { // a string-value within a tag's limit
		var c cellBuffer
		c.write([]byte(attrValue))
		return string(c.b), c.cutChars(), nil
	}
	return attrValue, 0, nil
}

// cellText reads a cell's paragraphs up to the cell's end tag. Comments
// (office:annotation) and drawings are not the cell's text.
func (s *odsSheetSource) cellText() (string, int, error) {
	s.text.reset()
	paragraphs := 0
	inP := 0
	for {
		t, err := s.x.next()
		if err != nil {
			return "", 0, s.damaged(err)
		}
		switch t.kind {
		case xmlEnd:
			switch string(t.name) {
			case "table-cell", "covered-table-cell":
				return string(s.text.b), s.text.cutChars(), nil
			case "p", "h":
				inP--
			}
		case xmlText:
			if inP > 0 {
				s.text.write(t.text)
				s.text.dropped(t.dropped)
			}
		case xmlStart:
			switch string(t.name) {
			case "p", "h":
				if inP == 0 {
					if paragraphs > 0 {
						s.text.write(newline)
					}
					paragraphs++
				}
				inP++
			case "s":
				s.text.write(spaces[:min(repeatCount(t.attr("c"), maxSpaces), maxSpaces)])
			case "tab":
				s.text.write(tab)
			case "line-break":
				s.text.write(newline)
			case "span", "a", "list", "list-item":
				// Formatting and links: their text is the cell's.
			default:
				if inP == 0 || string(t.name) == "annotation" || string(t.name) == "note" {
					if err := s.x.skip(); err != nil {
						return "", 0, s.damaged(err)
					}
				}
			}
		}
	}
}

// formatODSTime turns an ISO 8601 duration ("PT14H30M00S") into "14:30" or
// "14:30:15"; anything else is kept as written.
func formatODSTime(v string) string {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "PT")
	if !ok {
		return v
	}
	var parts [3]float64 // hours, minutes, seconds
	for i, unit := range []string{"H", "M", "S"} {
		num, after, found := strings.Cut(rest, unit)
		if !found {
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 {
			return v
		}
		parts[i], rest = f, after
	}
	if rest != "" {
		return v
	}
	secs := int(parts[0]*3600 + parts[1]*60 + parts[2] + 0.5)
	h, m, sec := secs/3600, secs/60%60, secs%60
	if sec != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}
