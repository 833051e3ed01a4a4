package spreadsheet

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names reported in Detected.Encoding and accepted in
// Options.Encoding.
const (
	EncUTF8        = "utf-8"
	EncUTF16LE     = "utf-16le"
	EncUTF16BE     = "utf-16be"
	EncWindows1252 = "windows-1252"
	EncISO88591    = "iso-8859-1"
	EncWindows1250 = "windows-1250"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// textEncoding is the outcome of encoding detection for a text file.
type textEncoding struct {
	name   string
	bomLen int
	// checkUTF8: the text is read as UTF-8 but is not known to be valid
	// everywhere (forced by the user, or valid UTF-8 mixed with invalid
	// bytes), so each row is validated and the first bad one reported.
	checkUTF8 bool
}

func (e textEncoding) decoder() *encoding.Decoder {
	switch e.name {
	case EncUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case EncUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	case EncWindows1252:
		return charmap.Windows1252.NewDecoder()
	case EncISO88591:
		return charmap.ISO8859_1.NewDecoder()
	case EncWindows1250:
		return charmap.Windows1250.NewDecoder()
	}
	return nil // UTF-8 needs no transform
}

func (e textEncoding) isUTF16() bool { return e.name == EncUTF16LE || e.name == EncUTF16BE }

// decodedReader streams the file's text as UTF-8, without its BOM.
func (e textEncoding) decodedReader(r io.ReaderAt, size int64) io.Reader {
	var src io.Reader = io.NewSectionReader(r, int64(e.bomLen), size-int64(e.bomLen))
	if d := e.decoder(); d != nil {
		src = transform.NewReader(src, d)
	}
	return src
}

// normalizeEncodingName maps the names users and tools give to ours.
func normalizeEncodingName(name string) (string, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "_", "-")
	switch n {
	case "utf-8", "utf8":
		return EncUTF8, true
	case "utf-16le", "utf16le", "utf-16", "utf16", "ucs-2", "unicode":
		return EncUTF16LE, true
	case "utf-16be", "utf16be":
		return EncUTF16BE, true
	case "windows-1252", "cp1252", "1252", "win-1252":
		return EncWindows1252, true
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return EncISO88591, true
	case "windows-1250", "cp1250", "1250", "win-1250":
		return EncWindows1250, true
	}
	return "", false
}

// detectEncoding works by evidence: a BOM first, then the NUL pattern of
// UTF-16, then UTF-8 validity over the whole file, else an 8-bit code page
// chosen by which one makes the non-ASCII bytes plausible letters. It also
// rejects empty and binary files, which it is the first to look at.
func detectEncoding(r io.ReaderAt, size int64, forced string) (textEncoding, error) {
	head, err := readHead(r, size, 4096)
	if err != nil {
		return textEncoding{}, err
	}
	enc := bomEncoding(head)
	if forced != "" {
		name, ok := normalizeEncodingName(forced)
		if !ok {
			return textEncoding{}, fileErr(CodeInvalidOption, fmt.Sprintf("unknown encoding %q", forced))
		}
		if enc.name != name {
			enc.bomLen = 0 // a BOM of another encoding is just data to the user's choice
		}
		enc.name, enc.checkUTF8 = name, name == EncUTF8
	}
	if enc.name == "" {
		if le, ok := sniffUTF16(head); ok {
			enc.name = EncUTF16BE
			if le {
				enc.name = EncUTF16LE
			}
		}
	}
	st, err := scanBytes(r, int64(enc.bomLen), size)
	if err != nil {
		return textEncoding{}, err
	}
	if !st.nonSpace {
		return textEncoding{}, fileErr(CodeEmptyFile, "the file contains no data")
	}
	if enc.isUTF16() {
		return enc, checkDecodedSample(enc, r, size)
	}
	if st.nul > 0 || tooManyControls(st.controls, st.total) {
		return textEncoding{}, fileErr(CodeBinaryContent, "the file contains binary data, not text")
	}
	if enc.name != "" {
		return enc, nil
	}
	enc.name = st.guess()
	enc.checkUTF8 = enc.name == EncUTF8 && st.invalid > 0
	return enc, nil
}

func bomEncoding(head []byte) textEncoding {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		return textEncoding{name: EncUTF8, bomLen: 3}
	case bytes.HasPrefix(head, bomUTF16LE):
		return textEncoding{name: EncUTF16LE, bomLen: 2}
	case bytes.HasPrefix(head, bomUTF16BE):
		return textEncoding{name: EncUTF16BE, bomLen: 2}
	}
	return textEncoding{}
}

// sniffUTF16 recognises BOM-less UTF-16 by its NUL bytes: text that is mostly
// Latin script has a zero high byte in nearly every code unit, in the odd
// positions for little endian, in the even ones for big endian. Binary data
// has NULs in both.
func sniffUTF16(sample []byte) (littleEndian, ok bool) {
	units := len(sample) / 2
	if units < 2 {
		return false, false
	}
	var evenZero, oddZero int
	for i := 0; i+1 < len(sample); i += 2 {
		if sample[i] == 0 {
			evenZero++
		}
		if sample[i+1] == 0 {
			oddZero++
		}
	}
	switch {
	case oddZero*3 >= units && evenZero*20 <= oddZero:
		return true, true
	case evenZero*3 >= units && oddZero*20 <= evenZero:
		return false, true
	}
	return false, false
}

// checkDecodedSample rejects "UTF-16" that decodes to control garbage, the
// sign of a binary file whose NULs happened to line up.
func checkDecodedSample(enc textEncoding, r io.ReaderAt, size int64) error {
	sample := make([]byte, 64<<10)
	n, err := io.ReadFull(enc.decodedReader(r, size), sample)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return &FileError{Code: CodeReadFailed, Detail: "the file could not be read", Err: fmt.Errorf("decode sample: %w", err)}
	}
	sample = sample[:n]
	var controls int64
	for _, b := range sample {
		if b == 0 {
			return fileErr(CodeBinaryContent, "the file contains binary data, not text")
		}
		if isControl(b) {
			controls++
		}
	}
	if tooManyControls(controls, int64(len(sample))) {
		return fileErr(CodeBinaryContent, "the file contains binary data, not text")
	}
	return nil
}

// isControl reports C0 control characters other than tab, CR and LF.
func isControl(b byte) bool {
	return (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F
}

// tooManyControls: a few stray control characters (a form feed, a
// vertical tab Excel on Mac puts in cells, a DOS end-of-file mark) are
// text; more than 2% is not.
func tooManyControls(controls, total int64) bool {
	return controls >= 4 && controls*50 > total
}

// byteStats is what one pass over the raw bytes learns.
type byteStats struct {
	total, nul, controls int64
	multibyte            int64 // valid multi-byte UTF-8 sequences
	invalid              int64 // bytes that are not valid UTF-8
	nonSpace             bool  // any byte other than NUL and whitespace
	score1250, score1252 float64
}

// guess picks the encoding from the statistics of a text with no BOM.
// Valid UTF-8 wins; a file mixing valid multi-byte UTF-8 with invalid bytes
// is treated as UTF-8 with broken rows (reported row by row), unless the
// invalid bytes far outnumber the valid sequences, which is an 8-bit file in
// which a few byte pairs happen to look like UTF-8.
func (s byteStats) guess() string {
	if s.invalid == 0 || s.multibyte*4 >= s.invalid {
		return EncUTF8
	}
	if s.score1250 > s.score1252 {
		return EncWindows1250
	}
	return EncWindows1252
}

// scanBytes streams the file once from offset off.
func scanBytes(r io.ReaderAt, off, size int64) (byteStats, error) {
	var st byteStats
	buf := make([]byte, 64<<10)
	carry := 0 // bytes of an incomplete UTF-8 sequence kept at buf[:carry]
	for off < size {
		n, err := r.ReadAt(buf[carry:], off)
		if n == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return st, &FileError{Code: CodeReadFailed, Detail: "the file could not be read", Err: fmt.Errorf("scan: %w", err)}
		}
		off += int64(n)
		chunk := buf[:carry+n]
		final := off >= size || err == io.EOF
		carry = st.add(chunk, carry, final)
		copy(buf, chunk[len(chunk)-carry:])
		if err == io.EOF {
			break
		}
	}
	return st, nil
}

// add accounts for chunk, of which the first skip bytes were already counted
// as raw bytes (they are the carried tail of the previous chunk). It returns
// how many trailing bytes form an incomplete UTF-8 sequence to carry over.
func (st *byteStats) add(chunk []byte, skip int, final bool) int {
	// Counting each byte value first keeps the per-byte loop trivial; the
	// statistics come from the 256 counts.
	var counts [256]int64
	for _, b := range chunk[skip:] {
		counts[b]++
	}
	st.total += int64(len(chunk) - skip)
	high := int64(0)
	for b, n := range counts {
		if n == 0 {
			continue
		}
		c := byte(b)
		switch {
		case c == 0:
			st.nul += n
		case isControl(c):
			st.controls += n
			st.nonSpace = true
		case c != ' ' && c != '\t' && c != '\r' && c != '\n':
			st.nonSpace = true
		}
		if c >= 0x80 {
			high += n
			w := cp125xWeights[c-0x80]
			st.score1250 += float64(w[0]) * float64(n)
			st.score1252 += float64(w[1]) * float64(n)
		}
	}
	if high == 0 && skip == 0 {
		return 0 // plain ASCII: no multi-byte sequence to check
	}
	for i := 0; i < len(chunk); {
		if chunk[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !final && !utf8.FullRune(chunk[i:]) {
			return len(chunk) - i
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size <= 1 {
			st.invalid++
		} else {
			st.multibyte++
		}
		i += size
	}
	return 0
}

// cp125xWeights gives, for bytes 0x80-0xFF, how plausible the character is
// in names and addresses when decoded as windows-1250 (Czech, Slovak, Polish,
// Hungarian...) and as windows-1252 (Western European), in tenths. Bytes that
// decode to the same letter in both score the same, except Š š Ž ž ý which
// exist in both but are far more common in Central European text, and ç ë,
// which point the other way. č and è are equally common in their languages,
// so they alone do not decide.
var cp125xWeights = func() [128][2]uint8 {
	var t [128][2]uint8
	set := func(b byte, w1250, w1252 uint8) { t[b-0x80] = [2]uint8{w1250, w1252} }
	for _, b := range []byte{0x8A, 0x8E, 0x9A, 0x9E, 0xDD, 0xFD} {
		set(b, 10, 0)
	}
	set(0xE7, 0, 5)
	set(0xEB, 0, 5)
	for _, w := range []struct {
		b            byte
		w1250, w1252 uint8
		g1250, g1252 string // the glyphs, for the reader of this table
	}{
		{0x83, 0, 1, "", "ƒ"}, {0x88, 0, 1, "", "ˆ"}, {0x98, 0, 1, "", "˜"},
		{0x8C, 10, 2, "Ś", "Œ"}, {0x8D, 10, 0, "Ť", ""}, {0x8F, 10, 0, "Ź", ""},
		{0x9C, 20, 5, "ś", "œ"}, {0x9D, 20, 0, "ť", ""}, {0x9F, 10, 1, "ź", "Ÿ"},
		{0xA1, 0, 3, "ˇ", "¡"}, {0xA2, 0, 2, "˘", "¢"}, {0xA3, 10, 5, "Ł", "£"},
		{0xA5, 5, 2, "Ą", "¥"}, {0xAA, 5, 2, "Ş", "ª"}, {0xAF, 10, 0, "Ż", "¯"},
		{0xB2, 0, 2, "˛", "²"}, {0xB3, 30, 1, "ł", "³"}, {0xB9, 20, 1, "ą", "¹"},
		{0xBA, 5, 5, "ş", "º"}, {0xBC, 5, 2, "Ľ", "¼"}, {0xBD, 0, 3, "˝", "½"},
		{0xBE, 10, 2, "ľ", "¾"}, {0xBF, 20, 3, "ż", "¿"}, {0xC0, 1, 5, "Ŕ", "À"},
		{0xC3, 2, 3, "Ă", "Ã"}, {0xC5, 1, 5, "Ĺ", "Å"}, {0xC6, 5, 3, "Ć", "Æ"},
		{0xC8, 20, 5, "Č", "È"}, {0xCA, 3, 3, "Ę", "Ê"}, {0xCC, 5, 1, "Ě", "Ì"},
		{0xCF, 5, 1, "Ď", "Ï"}, {0xD0, 3, 1, "Đ", "Ð"}, {0xD1, 3, 5, "Ń", "Ñ"},
		{0xD2, 3, 1, "Ň", "Ò"}, {0xD5, 3, 1, "Ő", "Õ"}, {0xD8, 10, 5, "Ř", "Ø"},
		{0xD9, 3, 1, "Ů", "Ù"}, {0xDB, 2, 1, "Ű", "Û"}, {0xDE, 1, 1, "Ţ", "Þ"},
		{0xE0, 3, 20, "ŕ", "à"}, {0xE3, 10, 15, "ă", "ã"}, {0xE5, 2, 15, "ĺ", "å"},
		{0xE6, 15, 10, "ć", "æ"}, {0xE8, 20, 20, "č", "è"}, {0xEA, 20, 15, "ę", "ê"},
		{0xEC, 30, 5, "ě", "ì"}, {0xEF, 10, 5, "ď", "ï"}, {0xF0, 5, 3, "đ", "ð"},
		{0xF1, 15, 15, "ń", "ñ"}, {0xF2, 10, 5, "ň", "ò"}, {0xF5, 10, 5, "ő", "õ"},
		{0xF8, 30, 10, "ř", "ø"}, {0xF9, 20, 5, "ů", "ù"}, {0xFB, 5, 5, "ű", "û"},
		{0xFE, 3, 2, "ţ", "þ"}, {0xFF, 0, 2, "˙", "ÿ"},
	} {
		set(w.b, w.w1250, w.w1252)
	}
	return t
}()
