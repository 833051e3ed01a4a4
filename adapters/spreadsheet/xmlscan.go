package spreadsheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlScanner reads the elements of a worksheet part. A worksheet is a flat,
// regular document of a few tag names, and encoding/xml's general machinery
// (namespaces, a token interface, a copy of every name and attribute) was
// most of the time an XLSX import took. The scanner checks what encoding/xml
// would refuse in a worksheet: unbalanced tags, unknown entities, text that
// is not UTF-8 or holds characters XML cannot carry.
type xmlScanner struct {
	r     *bufio.Reader
	tok   xmlToken
	buf   []byte // raw bytes of the current tag or text
	open  []byte // names of the open elements, one after another
	ends  []int  // where each open element's name starts in open
	close bool   // a self-closing tag was read: its end is the next token
}

type xmlKind uint8

const (
	xmlStart xmlKind = iota + 1
	xmlEnd
	xmlText
)

// xmlToken is valid until the next call of next.
type xmlToken struct {
	kind  xmlKind
	name  []byte // local name, without a namespace prefix
	attrs []xmlAttr
	text  []byte // character data, entities replaced
	// dropped counts the characters of a text past MaxCellBytes, which
	// were read but not kept.
	dropped int
}

type xmlAttr struct{ name, value []byte }

func (t *xmlToken) is(kind xmlKind, local string) bool {
	return t.kind == kind && string(t.name) == local
}

// attr is the value of the attribute with that local name, "" without one.
func (t *xmlToken) attr(local string) string {
	for _, a := range t.attrs {
		if string(a.name) == local {
			return string(a.value)
		}
	}
	return ""
}

var errXMLSyntax = errors.New("XML syntax error")

func xmlSyntax(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errXMLSyntax, fmt.Sprintf(format, args...))
}

// newXMLScanner reads r, which may declare an encoding other than UTF-8 (a
// rare writer does).
func newXMLScanner(r io.Reader) (*xmlScanner, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(256)
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		br.Discard(3) //nolint:errcheck // the three bytes are buffered
		head = head[3:]
	}
	// Like encoding/xml, any label but "utf-8" goes through its decoder.
	if label := declaredEncoding(head); label != "" && !strings.EqualFold(label, "utf-8") {
		in, err := decodeCharset(label, br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReaderSize(in, 64<<10)
	}
	return &xmlScanner{r: br}, nil
}

// declaredEncoding is the encoding named by the XML declaration at the
// start of head, "" when there is none.
func declaredEncoding(head []byte) string {
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return ""
	}
	decl, _, found := bytes.Cut(head, []byte("?>"))
	if !found {
		return ""
	}
	_, rest, found := bytes.Cut(decl, []byte("encoding"))
	if !found {
		return ""
	}
	rest = bytes.TrimLeft(rest, " \t\r\n=") // once per part
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	label, _, _ := bytes.Cut(rest[1:], rest[:1])
	return string(label)
}

// next returns the next start tag, end tag or text; io.EOF at the end of a
// well-formed document.
func (s *xmlScanner) next() (*xmlToken, error) {
	if s.close {
		s.close = false
		return s.pop(), nil
	}
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			if len(s.ends) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if c != '<' {
			s.r.UnreadByte() //nolint:errcheck // the byte was just read
			return s.text()
		}
		tok, err := s.markup()
		if tok != nil || err != nil {
			return tok, err
		}
	}
}

// skip reads past the end of the element whose start tag was just read.
func (s *xmlScanner) skip() error {
	depth := len(s.ends)
	for {
		tok, err := s.next()
		if err != nil {
			return err
		}
		if tok.kind == xmlEnd && len(s.ends) < depth {
			return nil
		}
	}
}

// text reads character data up to the next tag, keeping MaxCellBytes of
// it at most.
func (s *xmlScanner) text() (*xmlToken, error) {
	raw, dropped, err := s.readText()
	if err == io.EOF {
		if len(bytes.TrimSpace(raw)) > 0 || len(s.ends) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	s.r.UnreadByte() //nolint:errcheck // the '<' that ends the text
	raw = raw[:len(raw)-1]
	if !validXMLText(raw) {
		return nil, xmlSyntax("text that is not UTF-8 or holds control characters")
	}
	text, err := unescapeXML(s.tok.text[:0], raw)
	if err != nil {
		return nil, err
	}
	s.tok = xmlToken{kind: xmlText, text: text, name: s.tok.name[:0], attrs: s.tok.attrs[:0], dropped: dropped}
	return &s.tok, nil
}

// readText reads up to and including the next '<' into s.buf, keeping at
// most MaxCellBytes of the text before it (cut between characters and
// before an entity) and counting the characters of the rest.
func (s *xmlScanner) readText() (raw []byte, dropped int, err error) {
	s.buf = s.buf[:0]
	cut := false
	for {
		chunk, err := s.r.ReadSlice('<')
		if !cut && len(s.buf)+len(chunk) > MaxCellBytes+1 {
			keep := runeCut(chunk, MaxCellBytes-len(s.buf))
			if amp := bytes.LastIndexByte(chunk[:keep], '&'); amp >= 0 && bytes.IndexByte(chunk[amp:keep], ';') < 0 {
				keep = amp // not half an entity
			}
			s.buf = append(s.buf, chunk[:keep]...)
			chunk, cut = chunk[keep:], true
		}
		if cut {
			end := len(chunk)
			if err == nil {
				end-- // the '<'
			}
			dropped += countChars(chunk[:end])
			if err == nil {
				s.buf = append(s.buf, '<')
			}
		} else {
			s.buf = append(s.buf, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return s.buf, dropped, err
		}
	}
}

// markup reads what follows a '<': a tag, or a comment, processing
// instruction, CDATA section or declaration. It returns no token for those
// that are not data.
func (s *xmlScanner) markup() (*xmlToken, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	switch c {
	case '?':
		return nil, s.readUntil("?>")
	case '!':
		return s.bang()
	case '/':
		raw, err := s.readThrough('>')
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		return s.end(trimSpaceRight(raw[:len(raw)-1]))
	}
	s.r.UnreadByte() //nolint:errcheck // the first byte of the name
	return s.start()
}

func (s *xmlScanner) bang() (*xmlToken, error) {
	head, _ := s.r.Peek(7)
	switch {
	case bytes.HasPrefix(head, []byte("--")):
		return nil, s.readUntil("-->")
	case bytes.HasPrefix(head, []byte("[CDATA[")):
		s.r.Discard(7) //nolint:errcheck // peeked
		if err := s.readUntil("]]>"); err != nil {
			return nil, err
		}
		data := s.buf[:len(s.buf)-3]
		if !validXMLText(data) {
			return nil, xmlSyntax("CDATA that is not UTF-8 or holds control characters")
		}
		s.tok = xmlToken{kind: xmlText, text: append(s.tok.text[:0], data...), name: s.tok.name[:0], attrs: s.tok.attrs[:0]}
		return &s.tok, nil
	}
	// A declaration (<!DOCTYPE ...>), perhaps with an internal subset in
	// brackets: skipped, as encoding/xml does; its entities are never used.
	depth := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return nil, nil
		}
	}
}

// start parses a start tag up to its '>', quotes respected.
func (s *xmlScanner) start() (*xmlToken, error) {
	s.buf = s.buf[:0]
	quote := byte(0)
	for {
		chunk, err := s.r.ReadSlice('>')
		s.buf = append(s.buf, chunk...)
		if len(s.buf) > maxMarkupBytes {
			return nil, xmlSyntax("a tag longer than %d MB", maxMarkupBytes>>20)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		for _, c := range chunk {
			switch {
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			}
		}
		if quote == 0 {
			break
		}
	}
	raw := s.buf[:len(s.buf)-1]
	selfClosing := len(raw) > 0 && raw[len(raw)-1] == '/'
	if selfClosing {
		raw = raw[:len(raw)-1]
	}
	i := 0
	for i < len(raw) && !isXMLSpace(raw[i]) {
		i++
	}
	qname := raw[:i]
	if len(qname) == 0 {
		return nil, xmlSyntax("a tag without a name")
	}
	s.tok = xmlToken{kind: xmlStart, name: localName(qname), attrs: s.tok.attrs[:0], text: s.tok.text[:0]}
	if err := s.parseAttrs(raw[i:]); err != nil {
		return nil, err
	}
	s.ends = append(s.ends, len(s.open))
	s.open = append(s.open, qname...)
	s.close = selfClosing
	return &s.tok, nil
}

func (s *xmlScanner) parseAttrs(raw []byte) error {
	for {
		raw = trimSpaceLeft(raw)
		if len(raw) == 0 {
			return nil
		}
		eq := bytes.IndexByte(raw, '=')
		if eq < 1 {
			return xmlSyntax("an attribute without a value")
		}
		name := trimSpaceRight(raw[:eq])
		raw = trimSpaceLeft(raw[eq+1:])
		if len(raw) == 0 || (raw[0] != '"' && raw[0] != '\'') {
			return xmlSyntax("an unquoted attribute value")
		}
		end := bytes.IndexByte(raw[1:], raw[0])
		if end < 0 {
			return xmlSyntax("an unterminated attribute value")
		}
		value := raw[1 : 1+end]
		if bytes.IndexByte(value, '&') >= 0 {
			var err error
			if value, err = unescapeXML(nil, value); err != nil {
				return err
			}
		}
		s.tok.attrs = append(s.tok.attrs, xmlAttr{name: localName(name), value: value})
		raw = raw[2+end:]
	}
}

// end closes the innermost open element, which must have that name.
func (s *xmlScanner) end(qname []byte) (*xmlToken, error) {
	if len(s.ends) == 0 {
		return nil, xmlSyntax("an end tag </%s> without a start", qname)
	}
	if top := s.open[s.ends[len(s.ends)-1]:]; !bytes.Equal(top, qname) {
		return nil, xmlSyntax("element <%s> closed by </%s>", top, qname)
	}
	return s.pop(), nil
}

// pop closes the innermost open element. Its name stays in s.open's array
// until the next start tag, after the token has been used.
func (s *xmlScanner) pop() *xmlToken {
	from := s.ends[len(s.ends)-1]
	s.tok = xmlToken{kind: xmlEnd, name: localName(s.open[from:]), attrs: s.tok.attrs[:0], text: s.tok.text[:0]}
	s.open, s.ends = s.open[:from], s.ends[:len(s.ends)-1]
	return &s.tok
}

// readThrough reads up to and including delim into s.buf.
func (s *xmlScanner) readThrough(delim byte) ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice(delim)
		s.buf = append(s.buf, chunk...)
		if len(s.buf) > maxMarkupBytes {
			return nil, xmlSyntax("a tag longer than %d MB", maxMarkupBytes>>20)
		}
		if err != bufio.ErrBufferFull {
			return s.buf, err
		}
	}
}

// readUntil reads through the first occurrence of marker into s.buf.
func (s *xmlScanner) readUntil(marker string) error {
	s.buf = s.buf[:0]
	last := marker[len(marker)-1]
	for {
		chunk, err := s.r.ReadSlice(last)
		s.buf = append(s.buf, chunk...)
		if len(s.buf) > maxMarkupBytes {
			return xmlSyntax("a comment, CDATA section or declaration longer than %d MB", maxMarkupBytes>>20)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if bytes.HasSuffix(s.buf, []byte(marker)) {
			return nil
		}
	}
}

// The bytes package's trimming builds a set of its cutset on every call,
// which showed in a worksheet's millions of tags.
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func trimSpaceRight(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func localName(qname []byte) []byte {
	if i := bytes.LastIndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// validXMLText: UTF-8 without the control characters XML 1.0 forbids.
func validXMLText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return utf8.Valid(b)
}

// unescapeXML appends raw to dst with its entity and character references
// replaced and its line ends made "\n", as an XML parser reports them.
func unescapeXML(dst, raw []byte) ([]byte, error) {
	for {
		i := 0
		for i < len(raw) && raw[i] != '&' && raw[i] != '\r' {
			i++
		}
		if i == len(raw) {
			return append(dst, raw...), nil
		}
		dst = append(dst, raw[:i]...)
		if raw[i] == '\r' {
			dst = append(dst, '\n')
			raw = raw[i+1:]
			if len(raw) > 0 && raw[0] == '\n' {
				raw = raw[1:]
			}
			continue
		}
		semi := bytes.IndexByte(raw[i:], ';')
		if semi < 0 {
			return nil, xmlSyntax("an unterminated entity")
		}
		name := raw[i+1 : i+semi]
		raw = raw[i+semi+1:]
		switch string(name) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "apos":
			dst = append(dst, '\'')
		case "quot":
			dst = append(dst, '"')
		default:
			r, ok := charReference(name)
			if !ok {
				return nil, xmlSyntax("an unknown entity &%s;", name)
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
}

// charReference reads "#65" or "#x41".
func charReference(name []byte) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || n == 0 || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
