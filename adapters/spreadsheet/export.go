package spreadsheet

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/xuri/excelize/v2"
)

// RejectedRow is a row of the user's file as it was, with why it was
// rejected. Number is the row number the user's file showed; it is not
// written (the export keeps the user's own columns so it can be uploaded
// again), the caller may quote it in Reason.
type RejectedRow struct {
	Number int
	Cells  []string
	Reason string
}

// utf8BOM makes Excel open a CSV file as UTF-8 instead of the local code
// page, which would garble every accent.
const utf8BOM = "\uFEFF"

// EscapeFormula neutralises a cell that a spreadsheet would run as a
// formula: a value starting with = + - @ (or a tab or carriage return,
// which some programs strip before looking) gets a leading apostrophe, as
// OWASP advises against CSV injection. This is deliberate even where it
// changes harmless data: a phone number "+32 470 12 34 56" is exported as
// "'+32 470 12 34 56", and a negative number "-5" as "'-5". The reader
// undoes it on upload (see UnescapeFormula).
func EscapeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// UnescapeFormula undoes EscapeFormula, so a file exported here, fixed and
// uploaded again reads "+32 470 ..." and not "'+32 470 ...". Only the
// apostrophe EscapeFormula adds is removed; any other leading apostrophe is
// the user's.
func UnescapeFormula(s string) string {
	if len(s) >= 2 && s[0] == '\'' {
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return s[1:]
		}
	}
	return s
}

// exportRow lays out one rejected row: the user's cells under the user's
// header, the reason in the column after it. Cells beyond the header (a
// ragged CSV row) follow the reason, so nothing the user wrote is lost and
// the reason column stays aligned.
func exportRow(width int, r RejectedRow) []string {
	out := make([]string, max(width, len(r.Cells))+1)
	copy(out, r.Cells[:min(width, len(r.Cells))])
	out[width] = r.Reason
	if len(r.Cells) > width {
		copy(out[width+1:], r.Cells[width:])
	}
	for i, c := range out {
		out[i] = EscapeFormula(c)
	}
	return out
}

func exportHeader(header []string, reasonHeader string) []string {
	out := make([]string, len(header)+1)
	for i, h := range header {
		out[i] = EscapeFormula(h)
	}
	out[len(header)] = EscapeFormula(reasonHeader)
	return out
}

// newCSVWriter writes what Excel in Belgium, France and the Netherlands
// opens as columns without an import dialog: UTF-8 with a BOM, ";"
// between cells, CRLF line ends.
func newCSVWriter(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return cw, nil
}

// WriteRejectedCSV writes the rejected rows in the layout of the user's
// file (header, then a last reason column), so the user fixes them and
// uploads the file again. Rows stream: 100,000 rows are never held at once.
// An error from rows stops the export and is returned.
func WriteRejectedCSV(w io.Writer, header []string, reasonHeader string, rows iter.Seq2[RejectedRow, error]) error {
	bw := bufio.NewWriter(w)
	cw, err := newCSVWriter(bw)
	if err != nil {
		return err
	}
	if err := cw.Write(exportHeader(header, reasonHeader)); err != nil {
		return err
	}
	for r, err := range rows {
		if err != nil {
			return err
		}
		if err := cw.Write(exportRow(len(header), r)); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteRejectedXLSX is WriteRejectedCSV as a workbook. It uses excelize's
// stream writer, which spills rows to a temporary file instead of keeping
// them as cells in memory. The sheet is TemplateSheet so the reader picks
// it when the fixed file comes back. Cells longer than Excel's limit
// (32,767 characters) are cut by excelize; no valid value comes near it.
func WriteRejectedXLSX(w io.Writer, header []string, reasonHeader string, rows iter.Seq2[RejectedRow, error]) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), TemplateSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(TemplateSheet)
	if err != nil {
		return err
	}
	if err := prepareRejectedSheet(f, sw, header); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: textFormat})
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", cellValues(exportHeader(header, reasonHeader)), excelize.RowOpts{StyleID: bold}); err != nil {
		return err
	}
	n := 1
	for r, err := range rows {
		if err != nil {
			return err
		}
		n++
		if n > excelize.TotalRows {
			return fmt.Errorf("spreadsheet: more than %d rejected rows do not fit in one sheet", excelize.TotalRows-1)
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cellValues(exportRow(len(header), r))); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// prepareRejectedSheet sets what a stream writer needs before the first
// row: column widths, text format (so Excel keeps "0470..." and
// "1-2" as typed when the user edits), and a frozen header.
func prepareRejectedSheet(f *excelize.File, sw *excelize.StreamWriter, header []string) error {
	if len(header)+1 > excelize.MaxColumns {
		return fmt.Errorf("spreadsheet: %d columns do not fit in one sheet", len(header)+1)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: textFormat})
	if err != nil {
		return err
	}
	if err := sw.SetColStyle(1, len(header)+1, text); err != nil {
		return err
	}
	for i, h := range header {
		if err := sw.SetColWidth(i+1, i+1, columnWidth(h)); err != nil {
			return err
		}
	}
	if err := sw.SetColWidth(len(header)+1, len(header)+1, 60); err != nil {
		return err
	}
	return sw.SetPanes(frozenHeader())
}

func cellValues(cells []string) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c
	}
	return out
}

// textFormat is Excel's built-in "@" (text) number format.
const textFormat = 49

func frozenHeader() *excelize.Panes {
	return &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}
}

// columnWidth fits a header, within reason: wide enough to read, never so
// wide that the sheet needs scrolling for two columns.
func columnWidth(header string) float64 {
	n := float64(len([]rune(strings.TrimSpace(header)))) + 4
	return min(max(n, 12), 40)
}
