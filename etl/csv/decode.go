package csv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/triscope/triscope/etl/source"
)

// Text files arrive in the encodings Chinese and international CRMs export:
// UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (Excel's
// "Unicode text"), GBK/GB18030 (Excel's "CSV" on a Chinese Windows). The
// decoder turns them into UTF-8 line by line, so that a line it cannot read is
// quarantined with its line number while every other line loads, and no
// replacement character ever reaches a key.

// encodings names the encodings a user can declare (--encoding, mapping).
var encodings = map[string]string{
	"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "utf-8-bom": "utf-8", "gbk": "gbk", "gb2312": "gbk", "cp936": "gbk",
	"gb18030": "gb18030", "utf-16": "utf-16", "utf-16le": "utf-16le", "utf-16be": "utf-16be", "big5": "big5",
	"latin1": "latin1", "iso-8859-1": "latin1", "windows-1252": "windows-1252", "cp1252": "windows-1252",
}

// LookupEncoding names the canonical form of an encoding a user declared
// (--encoding, the mapping), or says which are supported.
func LookupEncoding(name string) (string, error) {
	if e, ok := encodings[strings.ToLower(strings.TrimSpace(name))]; ok {
		return e, nil
	}
	return "", fmt.Errorf("encoding %q is not supported (use auto, utf-8, gbk, gb18030, utf-16le, utf-16be, big5 or latin1)", name)
}

// byteDecoder returns the x/text decoder of a single- or double-byte encoding.
func byteDecoder(enc string) *encoding.Decoder {
	switch enc {
	case "gbk":
		return simplifiedchinese.GBK.NewDecoder()
	case "gb18030":
		return simplifiedchinese.GB18030.NewDecoder()
	case "big5":
		return traditionalchinese.Big5.NewDecoder()
	case "latin1":
		return charmap.ISO8859_1.NewDecoder()
	case "windows-1252":
		return charmap.Windows1252.NewDecoder()
	}
	return nil
}

// errBinary marks input that is not text at all.
var errBinary = errors.New("binary")

// detectEncoding looks at the start of a file (sample) and names its encoding,
// and how many bytes of byte-order mark to skip. declared is "" or "auto" to
// detect, or an encoding name.
func detectEncoding(sample []byte, declared string, atEOF bool) (enc string, bom int, err error) {
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		return "utf-8-bom", 3, nil
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		return "utf-16le", 2, nil
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		return "utf-16be", 2, nil
	}
	if declared != "" && declared != "auto" {
		if declared == "utf-16" {
			return "", 0, errors.New("declared UTF-16 but the file has no byte-order mark: declare utf-16le or utf-16be")
		}
		return declared, 0, nil
	}
	if n := bytes.Count(sample, []byte{0}); n > 0 && n*10 > len(sample) {
		return "", 0, fmt.Errorf("%w: %d of the first %d bytes are zero: this is a binary file or UTF-16 without a byte-order mark (declare --encoding utf-16le or utf-16be)", errBinary, n, len(sample))
	}
	if !atEOF {
		// Do not judge a character cut at the end of the sample.
		for i := 0; i < 3 && len(sample) > 0 && !utf8.FullRune(sample[max(0, len(sample)-4):]); i++ {
			sample = sample[:len(sample)-1]
		}
		if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
			sample = sample[:i+1]
		}
	}
	if utf8.Valid(sample) {
		return "utf-8", 0, nil
	}
	// Line by line: lines that are valid UTF-8 with non-ASCII text against
	// lines that are not UTF-8 but read cleanly as GB18030.
	var u, g int
	for _, line := range bytes.Split(sample, []byte{'\n'}) {
		switch {
		case IsASCII(line):
		case looksUTF8Chinese(line):
			u++
		case decodesCleanly(line, "gb18030"):
			g++
		}
	}
	if g > u {
		return "gb18030", 0, nil
	}
	return "utf-8", 0, nil
}

// IsASCII is true when b holds only ASCII bytes.
func IsASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func decodesCleanly(line []byte, enc string) bool {
	out, err := byteDecoder(enc).Bytes(line)
	return err == nil && !bytes.ContainsRune(out, utf8.RuneError)
}

// lineDecoder reads a text file in a known encoding and yields UTF-8. A line
// it cannot decode, or one longer than maxLine, is replaced by an empty line
// (so that line numbers stay exact) and recorded in bad. A file whose lines
// end in CR alone (old Mac and Excel exports) is read as if they ended in LF.
type lineDecoder struct {
	src     *bufio.Reader
	enc     string
	dec     *encoding.Decoder // for byte encodings
	utf16   bool              // src is already UTF-8 from a UTF-16 transformer: check for U+FFFD
	crOnly  bool              // line endings are CR alone
	maxLine int               // longest line kept; longer ones are skipped and recorded
	line    int64             // number of lines produced so far
	pend    []byte            // decoded bytes not yet returned
	acc     []byte            // a line longer than the buffer
	buf     []byte            // decode output
	bad     []source.Reject
	err     error
	// since counts the bytes returned since the last mark (the start of a
	// CSV record): a record may span lines, and is bounded too.
	since int
}

const maxBadLines = 100000 // beyond this the file is not text in this encoding

// errRecordTooLong ends a file whose record (a quoted value over many lines)
// grows past the line limit: most likely a quote that is never closed.
var errRecordTooLong = errors.New("record too long")

func newLineDecoder(r io.Reader, declared string, maxLine int) (*lineDecoder, string, error) {
	if maxLine <= 0 {
		maxLine = source.Limits{}.WithDefaults().MaxLineBytes
	}
	br := bufio.NewReaderSize(r, 1<<20)
	sample, perr := br.Peek(1 << 20)
	if perr != nil && perr != io.EOF && perr != bufio.ErrBufferFull {
		return nil, "", perr
	}
	enc, bom, err := detectEncoding(sample, declared, perr == io.EOF)
	if err != nil {
		return nil, "", err
	}
	br.Discard(bom)
	d := &lineDecoder{src: br, enc: enc, maxLine: maxLine}
	// CR-only line endings: no LF byte in the first megabyte but CRs. (In
	// UTF-8, GBK, Big5 and UTF-16 a CR byte is never part of another
	// character, nor is an LF.)
	d.crOnly = bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0
	var in io.Reader = br
	switch enc {
	case "utf-16le", "utf-16be":
		order := unicode.LittleEndian
		if enc == "utf-16be" {
			order = unicode.BigEndian
		}
		in = transform.NewReader(br, unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder())
		d.src = bufio.NewReaderSize(in, 1<<20)
		d.utf16 = true
	case "utf-8", "utf-8-bom":
	default:
		d.dec = byteDecoder(enc)
	}
	if d.crOnly {
		d.src = bufio.NewReaderSize(&crReader{r: in}, 1<<20)
	}
	return d, enc, nil
}

// crReader turns CR line endings into LF (a CR LF pair stays one ending).
type crReader struct {
	r      io.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	out := p[:0]
	for _, b := range p[:n] {
		switch {
		case b == '\r':
			out = append(out, '\n')
			c.lastCR = true
			continue
		case b == '\n' && c.lastCR:
			c.lastCR = false
			continue
		}
		c.lastCR = false
		out = append(out, b)
	}
	if len(out) == 0 && n > 0 && err == nil {
		return c.Read(p)
	}
	return len(out), err
}

func (d *lineDecoder) Read(p []byte) (int, error) {
	for len(d.pend) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		line, dropped, err := d.readLine()
		if err != nil {
			d.err = err
		}
		if len(line) > 0 || dropped > 0 {
			d.line++
			if dropped > 0 {
				if len(d.bad) < maxBadLines {
					d.bad = append(d.bad, source.Reject{Line: d.line, Value: printable(d.acc[:min(len(d.acc), 200)]),
						Reason: fmt.Sprintf("the line is %s long, more than the limit of %s (a value may hold at most 1/32 of it): the line was not read",
							source.Bytes(int64(dropped)), source.Bytes(int64(d.maxLine)))})
				}
				d.pend = line // its ending only
			} else {
				d.pend = d.convert(line)
			}
		}
	}
	if d.since > d.maxLine {
		return 0, errRecordTooLong
	}
	n := copy(p, d.pend)
	d.pend = d.pend[n:]
	d.since += n
	return n, nil
}

// mark starts a new record: the bytes of one record are bounded by maxLine.
func (d *lineDecoder) mark() { d.since = 0 }

// readLine returns the next physical line including its '\n'. A line longer
// than maxLine is skipped to its end without being kept: readLine returns its
// line ending only and how many bytes were dropped (d.acc keeps its start).
func (d *lineDecoder) readLine() ([]byte, int, error) {
	line, err := d.src.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, 0, err
	}
	d.acc = append(d.acc[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = d.src.ReadSlice('\n')
		if len(d.acc)+len(line) > d.maxLine {
			n := len(d.acc) + len(line)
			for err == bufio.ErrBufferFull {
				line, err = d.src.ReadSlice('\n')
				n += len(line)
			}
			ending := []byte(nil)
			if bytes.HasSuffix(line, []byte("\n")) {
				ending = []byte("\n")
			}
			return ending, n, err
		}
		d.acc = append(d.acc, line...)
	}
	return d.acc, 0, err
}

// convert decodes one line; an undecodable line becomes its line ending only.
func (d *lineDecoder) convert(line []byte) []byte {
	content := bytes.TrimRight(line, "\r\n")
	ending := line[len(content):]
	var reason string
	switch {
	case d.utf16:
		if bytes.ContainsRune(content, utf8.RuneError) {
			reason = "not valid UTF-16: the line holds bytes that are not characters"
		}
	case d.dec == nil: // UTF-8
		if !utf8.Valid(content) {
			reason = "not valid UTF-8" + utf8Hint(content)
		}
	default:
		if IsASCII(content) {
			break
		}
		if looksUTF8Chinese(content) {
			reason = fmt.Sprintf("this line is UTF-8 but the file is %s: the file mixes encodings; re-save it in one encoding", strings.ToUpper(d.enc))
			break
		}
		d.dec.Reset()
		out, err := d.dec.Bytes(content)
		if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
			reason = fmt.Sprintf("not valid %s: the line holds bytes that are not characters in this encoding", strings.ToUpper(d.enc))
			break
		}
		d.buf = append(append(d.buf[:0], out...), ending...)
		return d.buf
	}
	if reason != "" {
		if len(d.bad) < maxBadLines {
			d.bad = append(d.bad, source.Reject{Line: d.line, Reason: reason, Value: printable(content)})
		}
		return ending
	}
	return line
}

// looksUTF8Chinese is true for a line that is UTF-8 Chinese text: valid UTF-8
// whose non-ASCII characters are all three- or four-byte sequences, some of
// them CJK. Short GBK text is often valid UTF-8 by accident (支票 is D6A7 C6B1,
// two two-byte sequences), so validity alone does not tell.
func looksUTF8Chinese(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	cjk := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r < 0x80 {
			continue
		}
		if size < 3 {
			return false
		}
		if r >= 0x2E80 && r <= 0x9FFF || r >= 0xFF00 && r <= 0xFFEF || r >= 0x20000 {
			cjk = true
		}
	}
	return cjk
}

func utf8Hint(content []byte) string {
	if decodesCleanly(content, "gb18030") {
		return " (it reads as GBK/GB18030: the file mixes encodings, or is GBK with too little Chinese text near the top to tell; pass --encoding gbk)"
	}
	return ""
}

// printable shows undecodable bytes as \xNN so that the quarantine itself is
// valid UTF-8.
func printable(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&sb, `\x%02X`, b[0])
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
		if sb.Len() > 200 {
			sb.WriteString("…")
			break
		}
	}
	return sb.String()
}
