package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// sheetReader reads a worksheet's XML as it streams out of the archive and
// gives the rows excelize's row iterator gives with RawCellValue (Rows.Next
// and Rows.Columns): the same row numbers (a row missing from the XML is an
// empty row), cells placed by their reference, trailing empty cells
// dropped, shared and inline strings resolved (with the _xHHHH_ escapes
// undone), every other value as written. It is a byte scanner, not an XML
// parser: it looks only at the elements a worksheet's data is made of (row,
// c, v, f, is, t, r, rPh) by their local name and skips everything else, so
// it reads a sheet about ten times faster than encoding/xml.
// TestSheetReaderIsExcelize holds it to excelize on the test corpus and on
// hand-written sheets.
//
// No value is kept longer than maxText+1 bytes (the rest is skipped): the
// loader refuses a value over maxText bytes, and a cell of a gigabyte costs
// no memory.
type sheetReader struct {
	x       lexer
	sst     *sharedStrings
	maxText int
	// excelize's row counters: cur is the number of the last row element
	// read, seek the row being returned; cur > seek means the rows between
	// are missing (empty).
	cur, seek int
	pending   bool // the row element numbered cur is read up to its cells
	selfClose bool // … and has none (<row/>)
	done      bool
	// Per row: the cells' text, and where each value ends in it.
	text  []byte
	ends  []int
	v, is []byte // a cell's <v> and <is>
}

// maxRows is excelize's TotalRows.
const maxRows = 1048576

// next returns the next row (nil: an empty row; a new slice each time)
// with its Excel row number, or io.EOF after the last row element.
func (s *sheetReader) next() ([]string, int, error) {
	if s.done {
		return nil, 0, io.EOF
	}
	s.seek++
	if !s.pending {
		ok, err := s.nextRowElement()
		if err != nil {
			return nil, s.seek, err
		}
		if !ok {
			s.done = true
			return nil, 0, io.EOF
		}
	}
	if s.cur > s.seek {
		return nil, s.seek, nil
	}
	s.pending = false
	if s.selfClose {
		return nil, s.seek, nil
	}
	rec, err := s.cellsOfRow()
	return rec, s.seek, err
}

// nextRowElement reads up to the next <row> start tag (false at the end of
// sheetData or of the part) and numbers it.
func (s *sheetReader) nextRowElement() (bool, error) {
	for {
		t, r, _, err := s.x.tagRT()
		if err != nil {
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
		switch {
		case t.start && t.is("row"):
			s.cur++
			if n, err := atoi(r); err == nil {
				if n > maxRows {
					return false, excelize.ErrMaxRows
				}
				if n != 0 {
					s.cur = n
				}
			}
			s.pending, s.selfClose = true, t.selfClose
			return true, nil
		case !t.start && t.is("sheetData"):
			return false, nil
		}
	}
}

// cellsOfRow reads the cells of the row element whose start tag was read.
func (s *sheetReader) cellsOfRow() ([]string, error) {
	s.text, s.ends = s.text[:0], s.ends[:0]
	col := 0
	for {
		t, ref, typAttr, err := s.x.tagRT()
		if err != nil {
			if err == io.EOF {
				break // the part ends inside the row: excelize returns what it has
			}
			return nil, err
		}
		if !t.start {
			if t.is("row") {
				break
			}
			continue
		}
		if t.is("row") {
			// A row element inside a row: excelize takes it for the next
			// row; so does this reader.
			s.x.unread(t)
			break
		}
		if !t.is("c") {
			continue
		}
		col++
		if len(ref) > 0 {
			c, err := columnOf(ref)
			if err != nil {
				return nil, err
			}
			col = c
		}
		typ := cellNumber
		switch string(typAttr) {
		case "s":
			typ = cellShared
		case "inlineStr":
			typ = cellInline
		}
		var val []byte
		formula := false
		if !t.selfClose {
			var ok bool
			if val, ok = s.plainCell(typ); !ok {
				if val, formula, err = s.cellContent(typ); err != nil {
					return nil, err
				}
			}
		}
		if len(val) == 0 && !formula {
			continue
		}
		// excelize: the cell goes right after the last one kept, padded
		// with empty cells up to its column.
		for len(s.ends) < col-1 {
			s.ends = append(s.ends, len(s.text))
		}
		s.text = append(s.text, val...)
		s.ends = append(s.ends, len(s.text))
	}
	if len(s.ends) == 0 {
		return nil, nil
	}
	all := string(s.text) // one allocation for the row's values
	cells := make([]string, len(s.ends))
	from := 0
	for i, e := range s.ends {
		cells[i] = all[from:e]
		from = e
	}
	return cells, nil
}

// plainCell reads the cell whose start tag was just read when it is one of
// the two forms writers give almost every cell, <v>TEXT</v></c> and
// <is><t>TEXT</t></is></c>, with TEXT free of references, CRs and escapes;
// false (nothing read) for any other form.
func (s *sheetReader) plainCell(typ int) ([]byte, bool) {
	x := &s.x
	x.fill(64)
	b := x.buf[x.pos:]
	var open, close string
	switch {
	case typ != cellInline && len(b) > 3 && string(b[:3]) == "<v>":
		open, close = "<v>", "</v></c>"
	case typ == cellInline && len(b) > 7 && string(b[:7]) == "<is><t>":
		open, close = "<is><t>", "</t></is></c>"
	default:
		return nil, false
	}
	i := bytes.IndexByte(b[len(open):], '<')
	if i < 0 || i > s.maxText {
		return nil, false
	}
	text, rest := b[len(open):len(open)+i], b[len(open)+i:]
	if len(rest) < len(close) || string(rest[:len(close)]) != close || bytes.IndexByte(text, '&') >= 0 || bytes.IndexByte(text, '\r') >= 0 {
		return nil, false
	}
	if typ == cellInline && bytes.Contains(text, []byte("_x")) {
		return nil, false
	}
	x.pos += len(open) + i + len(close)
	if typ == cellShared && len(text) > 0 {
		n, _ := atoi(bytes.TrimSpace(text))
		if n < 0 || n >= s.sst.len() {
			return nil, true
		}
		return s.sst.get(n), true
	}
	return text, true
}

// What a cell's t attribute says about where its value is.
const (
	cellNumber = iota // and every other type: the value as written in <v>
	cellShared        // s: an index into the shared strings
	cellInline        // inlineStr: the text of <is>
)

// cellContent reads a cell's children up to </c> and returns its value as
// excelize's getValueFrom does with raw values (valid until the next call).
func (s *sheetReader) cellContent(typ int) (val []byte, formula bool, err error) {
	v, is := s.v[:0], s.is[:0]
	defer func() { s.v, s.is = v[:0], is[:0] }()
	hasIS := false
	for {
		t, err := s.x.tag()
		if err != nil {
			if err == io.EOF {
				break
			}
			return nil, false, err
		}
		if !t.start {
			if t.is("c") {
				break
			}
			continue
		}
		switch {
		case t.is("v"):
			v = v[:0]
			if !t.selfClose {
				if v, err = s.x.text(v, s.maxText+1, "v"); err != nil {
					return nil, false, err
				}
			}
		case t.is("f"):
			formula = true
			if !t.selfClose {
				if err := s.x.skipTo("f"); err != nil {
					return nil, false, err
				}
			}
		case t.is("is"):
			hasIS = true
			is = is[:0]
			if !t.selfClose {
				if is, err = s.x.richText(is, s.maxText+1, "is"); err != nil {
					return nil, false, err
				}
			}
		}
	}
	switch typ {
	case cellShared:
		if len(v) == 0 {
			return v, formula, nil
		}
		i, _ := strconv.Atoi(strings.TrimSpace(string(v)))
		if i < 0 || i >= s.sst.len() {
			return nil, formula, nil // excelize: an invalid index is an empty cell
		}
		return s.sst.get(i), formula, nil
	case cellInline:
		if hasIS {
			return bstrUnmarshal(is), formula, nil
		}
	}
	return v, formula, nil
}

// columnOf is the column number of a cell reference such as AB12.
func columnOf(ref []byte) (int, error) {
	col, i := 0, 0
	for i < len(ref) && i < 3 && ref[i] >= 'A' && ref[i] <= 'Z' {
		col = col*26 + int(ref[i]-'A'+1)
		i++
	}
	ok := i > 0 && i < len(ref) && ref[i] >= '1' && ref[i] <= '9' && col <= excelize.MaxColumns
	for j := i; ok && j < len(ref); j++ {
		ok = ref[j] >= '0' && ref[j] <= '9'
	}
	if ok && len(ref)-i <= 7 {
		if row, _ := atoi(ref[i:]); row <= maxRows {
			return col, nil
		}
	}
	c, _, err := excelize.CellNameToCoordinates(string(ref)) // anything else: as excelize says
	return c, err
}

// atoi is strconv.Atoi of the bytes, without making a string of the
// common ones (up to 18 digits).
func atoi(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 18 {
		return strconv.Atoi(string(b))
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return strconv.Atoi(string(b))
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// bstrExp is excelize's pattern of the escapes of characters XML 1.0 cannot hold.
var bstrExp = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)

// bstrUnmarshal undoes the _xHHHH_ escapes as excelize does.
func bstrUnmarshal(b []byte) []byte {
	if !bytes.Contains(b, []byte("_x")) {
		return b
	}
	s := string(b)
	var out strings.Builder
	cursor := 0
	for _, m := range bstrExp.FindAllStringIndex(s, -1) {
		out.WriteString(s[cursor:m[0]])
		cursor = m[1]
		if s[m[0]:m[1]] == "_x005F_" {
			out.WriteString("_")
			continue
		}
		v, _ := strconv.Unquote(`"\u` + s[m[0]+2:m[1]-1] + `"`)
		out.WriteString(v)
	}
	out.WriteString(s[cursor:])
	return []byte(out.String())
}

// sharedStrings is the workbook's shared strings table, each item as
// excelize's xlsxSI.String gives it, in one block of bytes.
type sharedStrings struct {
	data []byte
	ends []int
}

func (t *sharedStrings) len() int {
	if t == nil {
		return 0
	}
	return len(t.ends)
}

func (t *sharedStrings) get(i int) []byte {
	from := 0
	if i > 0 {
		from = t.ends[i-1]
	}
	return t.data[from:t.ends[i]]
}

// readSharedStrings reads the <si> items of a shared strings part.
func readSharedStrings(r io.Reader, maxText int) (*sharedStrings, error) {
	t := &sharedStrings{}
	x := lexer{r: r}
	var item []byte
	for {
		tag, err := x.tag()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("shared strings: %w", err)
		}
		if !tag.start || !tag.is("si") {
			continue
		}
		item = item[:0]
		if !tag.selfClose {
			if item, err = x.richText(item, maxText+1, "si"); err != nil {
				return nil, fmt.Errorf("shared strings: %w", err)
			}
		}
		t.data = append(t.data, bstrUnmarshal(item)...)
		t.ends = append(t.ends, len(t.data))
	}
}

// lexer splits XML into tags and text.
type lexer struct {
	direct, runs []byte // richText's
	r            io.Reader
	buf          []byte
	pos          int
	eof          bool
	back         *tagInfo // a tag given back (unread)
	backed       tagInfo
	// err is the read error that ended the input early (a damaged
	// archive); the scanner sees the end of the input, its caller this.
	err error
}

// tagInfo is one tag: its local name and raw attributes.
type tagInfo struct {
	start, selfClose bool
	name             []byte
	attrs            []byte
}

func (t *tagInfo) is(name string) bool { return string(t.name) == name }

// attr is the value of the attribute with the local name (entities are not
// decoded: the attributes read are numbers, references and types).
func (t *tagInfo) attr(name string) []byte {
	a := t.attrs
	i := 0
	for i < len(a) {
		for i < len(a) && isSpace(a[i]) {
			i++
		}
		k := i
		for i < len(a) && a[i] != '=' && !isSpace(a[i]) {
			i++
		}
		key := a[k:i]
		for i < len(a) && isSpace(a[i]) {
			i++
		}
		if i >= len(a) || a[i] != '=' {
			return nil
		}
		i++
		for i < len(a) && isSpace(a[i]) {
			i++
		}
		if i >= len(a) || (a[i] != '"' && a[i] != '\'') {
			return nil
		}
		q := a[i]
		i++
		v := i
		for i < len(a) && a[i] != q {
			i++
		}
		if i >= len(a) {
			return nil
		}
		val := a[v:i]
		i++
		if j := bytes.LastIndexByte(key, ':'); j >= 0 {
			key = key[j+1:]
		}
		if string(key) == name {
			return val
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

const lexChunk = 1 << 20

// errDamaged is a worksheet that is not well-formed where it matters.
var errDamaged = errors.New("the worksheet's XML is damaged")

// fill makes at least n bytes available from pos, if the input has them.
func (x *lexer) fill(n int) bool {
	for len(x.buf)-x.pos < n && !x.eof {
		if x.pos > 0 {
			copy(x.buf, x.buf[x.pos:])
			x.buf = x.buf[:len(x.buf)-x.pos]
			x.pos = 0
		}
		if cap(x.buf)-len(x.buf) < lexChunk {
			nb := make([]byte, len(x.buf), 2*cap(x.buf)+lexChunk)
			copy(nb, x.buf)
			x.buf = nb
		}
		m, err := io.ReadAtLeast(x.r, x.buf[len(x.buf):cap(x.buf)], 1)
		x.buf = x.buf[:len(x.buf)+m]
		if err != nil {
			x.eof = true
			if err != io.EOF {
				x.err = err
			}
		}
	}
	return len(x.buf)-x.pos >= n
}

func (x *lexer) unread(t tagInfo) {
	x.backed = tagInfo{start: t.start, selfClose: t.selfClose, name: append([]byte(nil), t.name...), attrs: append([]byte(nil), t.attrs...)}
	x.back = &x.backed
}

// tagRT reads the next tag as tag does, with its r and t attributes as attr
// gives them. Almost every tag of a sheet's data is plain — <c r="B7"
// t="s">, <v>, </row>: an unprefixed or prefixed name, double-quoted
// attributes, no comment or CDATA before it, all of it in the buffer — and
// quickTag reads those in one pass over their bytes; anything else goes
// through tag and attr.
func (x *lexer) tagRT() (t tagInfo, r, typ []byte, err error) {
	if x.back == nil {
		var ok bool
		if t, r, typ, ok = x.quickTag(); ok {
			return t, r, typ, nil
		}
	}
	if t, err = x.tag(); err != nil {
		return t, nil, nil, err
	}
	if len(t.attrs) > 0 {
		r, typ = t.attr("r"), t.attr("t")
	}
	return t, r, typ, nil
}

// quickTag reads a plain tag (see tagRT) at the next '<' of the buffer and
// picks out its r and t attributes; ok is false, with nothing read, for any
// other tag, which tag then reads. What it returns is what tag and attr
// would: the name after its prefix, the attributes after the name up to the
// '>' or '/>', the first attribute of each local name.
func (x *lexer) quickTag() (t tagInfo, r, typ []byte, ok bool) {
	b := x.buf[x.pos:]
	lt := 0 // mostly the tag follows the last one
	if len(b) == 0 || b[0] != '<' {
		if lt = bytes.IndexByte(b, '<'); lt < 0 {
			return t, nil, nil, false
		}
	}
	i := lt + 1
	t.start = true
	if i < len(b) && b[i] == '/' {
		t.start = false
		i++
	}
	n := i
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	if i == n || i >= len(b) {
		return t, nil, nil, false
	}
	t.name = b[n:i]
	if j := bytes.LastIndexByte(t.name, ':'); j >= 0 {
		t.name = t.name[j+1:]
	}
	a := i // the attributes start after the name
	var haveR, haveT bool
	for {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return t, nil, nil, false
		}
		switch c := b[i]; {
		case c == '>':
			t.attrs = b[a:i]
			x.pos += i + 1
			return t, r, typ, true
		case c == '/' && t.start && i+1 < len(b) && b[i+1] == '>':
			t.selfClose, t.attrs = true, b[a:i]
			x.pos += i + 2
			return t, r, typ, true
		case !t.start || !isNameByte(c) || a == i:
			// End tags have no attributes; attributes follow a space.
			return t, nil, nil, false
		}
		k := i
		for i < len(b) && isNameByte(b[i]) {
			i++
		}
		key := b[k:i]
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) || b[i] != '=' {
			return t, nil, nil, false
		}
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) || b[i] != '"' {
			return t, nil, nil, false
		}
		i++
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return t, nil, nil, false
		}
		val := b[i : i+q]
		i += q + 1
		if i < len(b) && !isSpace(b[i]) && b[i] != '>' && b[i] != '/' {
			return t, nil, nil, false
		}
		if j := bytes.LastIndexByte(key, ':'); j >= 0 {
			key = key[j+1:]
		}
		switch {
		case len(key) != 1:
		case key[0] == 'r' && !haveR:
			r, haveR = val, true
		case key[0] == 't' && !haveT:
			typ, haveT = val, true
		}
	}
}

// isNameByte: the ASCII bytes of XML names (names with other characters go
// the general way).
func isNameByte(c byte) bool { return nameBytes[c] }

var nameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-' || c == '.'
	}
	return t
}()

// maxTag bounds a tag's length (its attributes).
const maxTag = 1 << 20

// tag skips text, comments and processing instructions up to the next start
// or end tag and returns it. Its name and attributes are valid until the
// next call.
func (x *lexer) tag() (tagInfo, error) {
	if x.back != nil {
		t := *x.back
		x.back = nil
		return t, nil
	}
	for {
		i := bytes.IndexByte(x.buf[x.pos:], '<')
		if i < 0 {
			x.pos = len(x.buf)
			if !x.fill(1) {
				return tagInfo{}, io.EOF
			}
			continue
		}
		x.pos += i
		if !x.fill(2) {
			return tagInfo{}, io.EOF
		}
		switch x.buf[x.pos+1] {
		case '?':
			if err := x.skipPast("?>"); err != nil {
				return tagInfo{}, err
			}
			continue
		case '!':
			x.fill(9)
			rest := x.buf[x.pos:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if err := x.skipPast("-->"); err != nil {
					return tagInfo{}, err
				}
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				if err := x.skipPast("]]>"); err != nil {
					return tagInfo{}, err
				}
			default:
				return tagInfo{}, fmt.Errorf("%w: a document type declaration or an unknown <! construct", errDamaged)
			}
			continue
		}
		// The whole tag: up to the '>' outside quotes. Offsets are kept
		// from pos: fill moves the buffer.
		end, quote := -1, byte(0)
		if j := bytes.IndexByte(x.buf[x.pos+1:], '>'); j >= 0 {
			// Most tags: no quote, or double quotes in pairs.
			body := x.buf[x.pos+1 : x.pos+1+j]
			if bytes.IndexByte(body, '\'') < 0 && bytes.Count(body, []byte{'"'})%2 == 0 {
				end = x.pos + 1 + j
			}
		}
		for rel := 1; end < 0; {
			for j := x.pos + rel; j < len(x.buf); j++ {
				c := x.buf[j]
				if quote != 0 {
					if c == quote {
						quote = 0
					}
				} else if c == '"' || c == '\'' {
					quote = c
				} else if c == '>' {
					end = j
					break
				}
			}
			if end >= 0 {
				break
			}
			rel = len(x.buf) - x.pos
			if rel > maxTag {
				return tagInfo{}, fmt.Errorf("%w: a tag longer than %d bytes", errDamaged, maxTag)
			}
			if !x.fill(rel + 1) {
				return tagInfo{}, io.EOF
			}
		}
		body := x.buf[x.pos+1 : end]
		x.pos = end + 1
		t := tagInfo{start: true}
		if len(body) > 0 && body[0] == '/' {
			t.start, body = false, body[1:]
		}
		if len(body) > 0 && body[len(body)-1] == '/' {
			t.selfClose, body = true, body[:len(body)-1]
		}
		n := 0
		for n < len(body) && !isSpace(body[n]) {
			n++
		}
		t.name, t.attrs = body[:n], body[n:]
		if j := bytes.LastIndexByte(t.name, ':'); j >= 0 {
			t.name = t.name[j+1:]
		}
		return t, nil
	}
}

// skipPast moves past the next occurrence of end.
func (x *lexer) skipPast(end string) error {
	for {
		if i := bytes.Index(x.buf[x.pos:], []byte(end)); i >= 0 {
			x.pos += i + len(end)
			return nil
		}
		keep := max(len(x.buf)-len(end), x.pos)
		x.pos = keep
		if !x.fill(len(x.buf) - x.pos + 1) {
			return io.EOF
		}
	}
}

// skipTo skips everything up to the end tag of the element named name
// (elements of that name inside it are counted).
func (x *lexer) skipTo(name string) error {
	depth := 0
	for {
		t, err := x.tag()
		if err != nil {
			return err
		}
		if !t.is(name) || t.selfClose {
			continue
		}
		if t.start {
			depth++
		} else if depth == 0 {
			return nil
		} else {
			depth--
		}
	}
}

// text appends the character data up to the end tag of element name to
// dst, keeping at most limit bytes of it. Entities and character references
// are decoded, CDATA sections taken as they are, and line ends normalised to
// LF as encoding/xml does. Elements inside are skipped with their text.
func (x *lexer) text(dst []byte, limit int, name string) ([]byte, error) {
	for {
		var err error
		if dst, err = x.chars(dst, limit); err != nil {
			return dst, err
		}
		t, err := x.tag()
		if err != nil {
			return dst, err
		}
		if !t.start && t.is(name) {
			return dst, nil
		}
		if t.start && !t.selfClose {
			if err := x.skipTo(string(t.name)); err != nil {
				return dst, err
			}
		}
	}
}

// richText appends the text of a string item (<si>, <is>) to dst as
// excelize's xlsxSI.String reads it: its <t> and the <t> of its runs <r>,
// not the phonetic runs <rPh>.
func (x *lexer) richText(dst []byte, limit int, name string) ([]byte, error) {
	direct, runs := x.direct[:0], x.runs[:0]
	defer func() { x.direct, x.runs = direct[:0], runs[:0] }()
	for {
		t, err := x.tag()
		if err != nil {
			return dst, err
		}
		if !t.start {
			if t.is(name) {
				break
			}
			continue
		}
		switch {
		case t.is("t"):
			// An item's own <t> (the last one, as encoding/xml keeps it).
			direct = direct[:0]
			if !t.selfClose {
				if direct, err = x.text(direct, limit, "t"); err != nil {
					return dst, err
				}
			}
		case t.is("r"):
			if t.selfClose {
				continue
			}
			if runs, err = x.runText(runs, limit); err != nil {
				return dst, err
			}
			if len(runs) > limit {
				runs = runs[:limit]
			}
		case t.is("rPh"), t.is("phoneticPr"):
			if !t.selfClose {
				if err := x.skipTo(string(t.name)); err != nil {
					return dst, err
				}
			}
		}
	}
	dst = append(dst, direct...)
	dst = append(dst, runs...)
	if len(dst) > limit {
		dst = dst[:limit]
	}
	return dst, nil
}

// runText reads a run <r> up to </r> and appends the text of its <t> to dst.
func (x *lexer) runText(dst []byte, limit int) ([]byte, error) {
	from := len(dst)
	for {
		t, err := x.tag()
		if err != nil {
			return dst, err
		}
		if !t.start {
			if t.is("r") {
				return dst, nil
			}
			continue
		}
		if t.is("t") {
			dst = dst[:from] // the run's last <t>, as encoding/xml keeps it
			if !t.selfClose {
				if dst, err = x.text(dst, from+limit, "t"); err != nil {
					return dst, err
				}
			}
		} else if !t.selfClose {
			if err := x.skipTo(string(t.name)); err != nil {
				return dst, err
			}
		}
	}
}

// chars appends character data up to the next tag (or comment, or
// processing instruction) to dst; CDATA sections are character data.
func (x *lexer) chars(dst []byte, limit int) ([]byte, error) {
	for {
		i := bytes.IndexByte(x.buf[x.pos:], '<')
		seg := x.buf[x.pos:]
		if i >= 0 {
			seg = seg[:i]
		}
		// Entities and a CR at the end of the segment may continue past
		// the buffer: decode up to a safe point.
		var err error
		n := len(seg)
		if i < 0 && !x.eof {
			n = max(0, len(seg)-12)
			if k := bytes.LastIndexByte(seg[:n], '&'); k >= 0 && bytes.IndexByte(seg[k:n], ';') < 0 {
				n = k
			}
			if n > 0 && seg[n-1] == '\r' {
				n--
			}
		}
		dst, err = decodeChars(dst, seg[:n], limit)
		if err != nil {
			return dst, err
		}
		x.pos += n
		if i >= 0 && n == len(seg) {
			// At a '<': a CDATA section is text.
			x.fill(9)
			if bytes.HasPrefix(x.buf[x.pos:], []byte("<![CDATA[")) {
				x.pos += 9
				var cdata []byte
				for {
					j := bytes.Index(x.buf[x.pos:], []byte("]]>"))
					if j >= 0 {
						cdata = append(cdata, x.buf[x.pos:x.pos+j]...)
						x.pos += j + 3
						break
					}
					k := max(len(x.buf)-2, x.pos)
					cdata = append(cdata, x.buf[x.pos:k]...)
					x.pos = k
					if len(cdata) > limit {
						cdata = cdata[:limit]
					}
					if !x.fill(len(x.buf) - x.pos + 1) {
						return dst, io.ErrUnexpectedEOF
					}
				}
				dst = appendLimited(dst, normaliseCR(cdata), limit)
				continue
			}
			return dst, nil
		}
		if !x.fill(len(x.buf) - x.pos + 1) {
			if len(x.buf) > x.pos {
				continue // the tail, decoded as the end of the input
			}
			return dst, io.EOF
		}
	}
}

func appendLimited(dst, b []byte, limit int) []byte {
	if room := limit - len(dst); room < len(b) {
		b = b[:max(room, 0)]
	}
	return append(dst, b...)
}

func normaliseCR(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

// decodeChars appends character data with its references decoded. A CR
// before an LF is dropped, a lone CR becomes LF.
func decodeChars(dst, seg []byte, limit int) ([]byte, error) {
	if bytes.IndexByte(seg, '&') < 0 && bytes.IndexByte(seg, '\r') < 0 {
		return appendLimited(dst, seg, limit), nil
	}
	for len(seg) > 0 {
		c := seg[0]
		switch {
		case c == '\r':
			if len(seg) > 1 && seg[1] == '\n' {
				seg = seg[1:]
				continue
			}
			dst = appendLimited(dst, []byte{'\n'}, limit)
			seg = seg[1:]
		case c == '&':
			j := bytes.IndexByte(seg, ';')
			if j < 0 {
				return dst, fmt.Errorf("%w: an unterminated entity", errDamaged)
			}
			r, ok := entity(seg[1:j])
			if !ok {
				return dst, fmt.Errorf("%w: an unknown entity &%s;", errDamaged, clip(seg[1:j]))
			}
			dst = appendLimited(dst, utf8.AppendRune(nil, r), limit)
			seg = seg[j+1:]
		default:
			k := bytes.IndexAny(seg, "&\r")
			if k < 0 {
				k = len(seg)
			}
			dst = appendLimited(dst, seg[:k], limit)
			seg = seg[k:]
		}
	}
	return dst, nil
}

func clip(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

// entity decodes the name of a reference between & and ;.
func entity(name []byte) (rune, bool) {
	switch string(name) {
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	var n uint64
	var err error
	if name[1] == 'x' {
		n, err = strconv.ParseUint(string(name[2:]), 16, 32)
	} else {
		n, err = strconv.ParseUint(string(name[1:]), 10, 32)
	}
	if err != nil || !isXMLChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// isXMLChar: the characters XML 1.0 allows (as encoding/xml checks them).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
