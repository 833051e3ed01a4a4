package spreadsheet

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// scanAll lists the tokens of doc as the worksheet scanner reads them.
func scanAll(doc string) ([]string, error) {
	x, err := newXMLScanner(strings.NewReader(doc))
	if err != nil {
		return nil, err
	}
	var out []string
	for {
		t, err := x.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t.kind {
		case xmlStart:
			s := "<" + string(t.name)
			for _, a := range t.attrs {
				s += fmt.Sprintf(" %s=%q", a.name, a.value)
			}
			out = append(out, s+">")
		case xmlEnd:
			out = append(out, "</"+string(t.name)+">")
		case xmlText:
			out = append(out, fmt.Sprintf("%q", t.text))
		}
	}
}

// decodeAll lists the same with encoding/xml, the reference.
func decodeAll(doc string) ([]string, error) {
	d := newXMLDecoder(strings.NewReader(doc))
	var out []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := "<" + t.Name.Local
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s=%q", a.Name.Local, a.Value)
			}
			out = append(out, s+">")
		case xml.EndElement:
			out = append(out, "</"+t.Name.Local+">")
		case xml.CharData:
			out = append(out, fmt.Sprintf("%q", []byte(t)))
		}
	}
}

func TestWorksheetScannerReadsWhatEncodingXMLReads(t *testing.T) {
	docs := []string{
		`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
			`<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="2"><v>45000.5</v></c><c r="C1"/></row>` +
			`<row r="2"><c r="A2" t="inlineStr"><is><r><t xml:space="preserve"> Dupont &amp; fils </t></r><rPh><t>ph</t></rPh></is></c>` +
			`<c r="B2"><f>SUM(A1:A2)</f><v>3</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>`,
		`<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row><x:c t='str' r = 'A1' ><x:v>a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#233;&#x10D;</x:v></x:c></x:row></x:sheetData></x:worksheet>`,
		`<a><!-- a comment with <tags> and > --><b attr="1 > 0">line1` + "\r\n" + `line2` + "\r" + `line3</b><![CDATA[<raw & text>]]></a>`,
		`<!DOCTYPE a [<!ENTITY e "x">]><a>text</a>`,
		"<a b=\"caf\xC3\xA9\">\xC5\x99</a>",
		`<?xml version="1.0" encoding="windows-1252"?><a>caf` + "\xE9" + `</a>`,
	}
	for i, doc := range docs {
		want, wantErr := decodeAll(doc)
		got, err := scanAll(doc)
		if wantErr != nil || err != nil {
			t.Fatalf("document %d: encoding/xml said %v, the scanner %v", i, wantErr, err)
		}
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("document %d:\nscanner      %v\nencoding/xml %v", i, got, want)
		}
	}
	// A byte-order mark is no text of the document (encoding/xml reports it
	// as text before the root, which a worksheet reader ignores).
	if got, err := scanAll("\xEF\xBB\xBF<a>x</a>"); err != nil || strings.Join(got, "") != `<a>"x"</a>` {
		t.Errorf("with a byte-order mark: %v, %v", got, err)
	}
}

func TestWorksheetScannerRefusesWhatIsNotXML(t *testing.T) {
	for _, doc := range []string{
		`<a><b></a></b>`,
		`<a>`,
		`<a>x</a></b>`,
		`<a>&unknown;</a>`,
		`<a>&#0;</a>`,
		"<a>\x01</a>",
		"<a>\xFF</a>",
		`<a b=c></a>`,
		`<a b="c></a>`,
		`<a><!-- never closed </a>`,
	} {
		if _, wantErr := decodeAll(doc); wantErr == nil {
			t.Fatalf("%q: encoding/xml reads it, the case is wrong", doc)
		}
		if _, err := scanAll(doc); err == nil {
			t.Errorf("%q: read without an error", doc)
		} else if !errors.Is(err, errXMLSyntax) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: %v is neither a syntax error nor a cut-off document", doc, err)
		}
	}
}

// The merged ranges come after the rows; the search for the end of the
// rows must find it wherever it falls against the blocks it reads.
func TestEndOfSheetDataIsFoundAcrossBlocks(t *testing.T) {
	for _, end := range []string{"</sheetData>", "</x:sheetData \n>", "<sheetData/>"} {
		for pad := 65_400; pad < 65_560; pad += 7 {
			doc := `<worksheet><sheetData><row><c><v>` + strings.Repeat("1", pad) + `</v></c></row>` + end +
				`<mergeCells><mergeCell ref="A1:B2"/></mergeCells></worksheet>`
			rest, found, err := skipSheetData(io.MultiReader(strings.NewReader(doc[:pad/2]), strings.NewReader(doc[pad/2:])))
			if err != nil || !found {
				t.Fatalf("%s after %d bytes: found %v, %v", end, pad, found, err)
			}
			after, _ := io.ReadAll(rest)
			if !strings.HasPrefix(string(after), "<mergeCells>") {
				t.Fatalf("%s after %d bytes: the rest starts %.20q", end, pad, after)
			}
		}
	}
	if _, found, err := skipSheetData(strings.NewReader(`<worksheet><sheetData><row>`)); found || err != nil {
		t.Errorf("a sheet cut off in its rows: found %v, %v", found, err)
	}
}
