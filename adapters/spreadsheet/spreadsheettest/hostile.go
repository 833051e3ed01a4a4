// Package spreadsheettest makes the hostile files the tests and the
// benchmark upload: small files that unpack or read into huge cells, huge
// tables of shared strings, entities that point outside the file. Each is
// made in memory, streamed through the compressor, so making a 250 MB cell
// costs no 250 MB.
package spreadsheettest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
)

const (
	contentTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`
	rootRels     = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbook = `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRels = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`
	sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	sstHead   = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
	// header is the first row of every workbook here: email and last name.
	header = `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c><c r="B1" t="inlineStr"><is><t>last_name</t></is></c></row>`
)

// part is a part of a package: its name and what writes it.
type part struct {
	name  string
	write func(w io.Writer) error
}

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// repeat writes s n times.
func repeat(w io.Writer, s string, n int) error {
	chunk := strings.Repeat(s, max(1, (64<<10)/max(1, len(s))))
	per := len(chunk) / len(s)
	for n > 0 {
		k := min(n, per)
		if _, err := io.WriteString(w, chunk[:k*len(s)]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// xlsx packs the parts of a workbook with the given sheet and shared
// strings (nil: none).
func xlsx(sheet, sst func(io.Writer) error) []byte {
	parts := []part{{"[Content_Types].xml", text(contentTypes)}, {"_rels/.rels", text(rootRels)},
		{"xl/workbook.xml", text(workbook)}, {"xl/_rels/workbook.xml.rels", text(workbookRels)},
		{"xl/worksheets/sheet1.xml", sheet}}
	if sst != nil {
		parts = append(parts, part{"xl/sharedStrings.xml", sst})
	}
	return pack(parts)
}

func pack(parts []part) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err == nil {
			err = p.write(w)
		}
		if err != nil {
			panic(err) // writes to memory do not fail
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// InlineCellXLSX is a workbook whose one client has a last name of n
// bytes, written in the sheet (an inline string): 250 MB pack into about
// 250 KB.
func InlineCellXLSX(n int) []byte {
	return xlsx(func(w io.Writer) error {
		if _, err := io.WriteString(w, sheetHead+header+`<row r="2"><c r="A2" t="inlineStr"><is><t>bomb@example.be</t></is></c>`+
			`<c r="B2" t="inlineStr"><is><t>`); err != nil {
			return err
		}
		if err := repeat(w, "x", n); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row>`+sheetTail)
		return err
	}, nil)
}

// SharedCellXLSX is InlineCellXLSX with the last name a shared string.
func SharedCellXLSX(n int) []byte {
	return xlsx(text(sheetHead+header+`<row r="2"><c r="A2" t="inlineStr"><is><t>bomb@example.be</t></is></c><c r="B2" t="s"><v>0</v></c></row>`+sheetTail),
		func(w io.Writer) error {
			if _, err := io.WriteString(w, sstHead+`<si><t>`); err != nil {
				return err
			}
			if err := repeat(w, "x", n); err != nil {
				return err
			}
			_, err := io.WriteString(w, `</t></si></sst>`)
			return err
		})
}

// InlineCellODS is InlineCellXLSX saved as LibreOffice's own format.
func InlineCellODS(n int) []byte {
	cell := func(s string) string {
		return `<table:table-cell office:value-type="string"><text:p>` + s + `</text:p></table:table-cell>`
	}
	mimetype := func(w io.Writer) error {
		_, err := io.WriteString(w, "application/vnd.oasis.opendocument.spreadsheet")
		return err
	}
	content := func(w io.Writer) error {
		if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><office:document-content `+
			`xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" `+
			`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet><table:table table:name="Clients">`+
			`<table:table-row>`+cell("email")+cell("last_name")+`</table:table-row>`+
			`<table:table-row>`+cell("bomb@example.be")+`<table:table-cell office:value-type="string"><text:p>`); err != nil {
			return err
		}
		if err := repeat(w, "x", n); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`)
		return err
	}
	return pack([]part{{"mimetype", mimetype}, {"content.xml", content}})
}

// SharedStringsBombXLSX is a workbook whose table of shared strings holds
// count strings of size bytes each (a million of 500 bytes pack into less
// than 1 MB), its one client using the first.
func SharedStringsBombXLSX(count, size int) []byte {
	return xlsx(text(sheetHead+header+`<row r="2"><c r="A2" t="inlineStr"><is><t>bomb@example.be</t></is></c><c r="B2" t="s"><v>0</v></c></row>`+sheetTail),
		func(w io.Writer) error {
			if _, err := io.WriteString(w, sstHead); err != nil {
				return err
			}
			if err := repeat(w, `<si><t>`+strings.Repeat("y", size)+`</t></si>`, count); err != nil {
				return err
			}
			_, err := io.WriteString(w, `</sst>`)
			return err
		})
}

// ManyCellsXLSX is a workbook of rows clients, each with a last name of
// size bytes written in the sheet: the text of many rows held at once.
func ManyCellsXLSX(rows, size int) []byte {
	return xlsx(func(w io.Writer) error {
		if _, err := io.WriteString(w, sheetHead+header); err != nil {
			return err
		}
		name := strings.Repeat("z", size)
		for i := 2; i <= rows+1; i++ {
			if _, err := fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>c%d@example.be</t></is></c><c r="B%d" t="inlineStr"><is><t>%s</t></is></c></row>`,
				i, i, i, i, name); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, sheetTail)
		return err
	}, nil)
}

// XXEXLSX is a workbook whose sheet declares an external entity (the
// server's /etc/passwd) and uses it as a client's last name.
func XXEXLSX() []byte {
	return xlsx(text(`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`+
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+header+
		`<row r="2"><c r="A2" t="inlineStr"><is><t>xxe@example.be</t></is></c><c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c></row>`+sheetTail), nil)
}

// HugeCellCSV is a CSV file whose one client has a last name of n bytes.
func HugeCellCSV(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n + 64)
	buf.WriteString("email;last_name\r\nbomb@example.be;")
	_ = repeat(&buf, "x", n)
	buf.WriteString("\r\n")
	return buf.Bytes()
}

// PlainCSV is a CSV file of clients of about n bytes.
func PlainCSV(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n + 128)
	buf.WriteString("email;first_name;last_name;language;city\r\n")
	for i := 0; buf.Len() < n; i++ {
		fmt.Fprintf(&buf, "client%07d@example.be;Jan;Peeters%d;nl;Gent\r\n", i, i)
	}
	return buf.Bytes()
}
