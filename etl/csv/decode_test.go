package csv

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/triscope/triscope/etl/source"
)

// FuzzDecode: any bytes, any declared encoding: the decoder returns valid
// UTF-8, never panics, and keeps every line (an undecodable line becomes an
// empty one, so line numbers stay exact).
func FuzzDecode(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), uint8(0))
	f.Add([]byte("\xef\xbb\xbfa,b\r\n1,2\r\n"), uint8(0))
	f.Add([]byte("\xff\xfea\x00,\x00b\x00\n\x00"), uint8(0))
	f.Add([]byte("\xfe\xff\x00a\x00\n"), uint8(0))
	f.Add([]byte("\xbb\xd8\xbf\xee,\xbd\xf0\xb6\xee\n1,\xff\n\xe4\xb8\xad\n"), uint8(1))
	f.Add([]byte("\xbb\xd8\xbf\xee\n\xe4\xb8\xad\xe6\x96\x87\n\x80\x81\n"), uint8(0))
	f.Add([]byte("\x00\x00\x00\x00a"), uint8(0))
	f.Add([]byte("no newline at end \xe4\xb8"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		declared := []string{"", "gbk", "gb18030", "utf-16le", "big5", "utf-8"}[int(mode)%6]
		d, enc, err := newLineDecoder(bytes.NewReader(b), declared, 0)
		if err != nil {
			return
		}
		out, err := io.ReadAll(d)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("decoded %q (%s) is not UTF-8: %q", b, enc, out)
		}
		if enc != "utf-16le" && enc != "utf-16be" {
			in := b
			if enc == "utf-8-bom" {
				in = b[3:]
			}
			ending := []byte{'\n'}
			if d.crOnly { // CR line endings are read as LF
				ending = []byte{'\r'}
			}
			if bytes.Count(in, ending) != bytes.Count(out, []byte{'\n'}) {
				t.Fatalf("%q (%s): %d lines in, %d out", b, enc, bytes.Count(in, ending), bytes.Count(out, []byte{'\n'}))
			}
		}
		lines := bytes.Count(b, []byte{'\n'}) + 1
		if d.crOnly { // a file of CR line endings counts its lines by CR
			lines = bytes.Count(b, []byte{'\r'}) + 1
		}
		for _, r := range d.bad {
			if r.Line < 1 || r.Line > int64(lines) {
				t.Fatalf("bad line %d out of range (%d lines)", r.Line, lines)
			}
		}
	})
}

// GBK text that happens to be valid UTF-8 (支票 = D6A7 C6B1) is not taken for
// a UTF-8 line in a GBK file; real UTF-8 Chinese is.
func TestMixedEncodingHeuristic(t *testing.T) {
	gbk := func(s string) []byte { b, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s)); return b }
	if looksUTF8Chinese(gbk("P1,CNY,支票")) {
		t.Error("GBK 支票 taken for UTF-8")
	}
	if !looksUTF8Chinese([]byte("P1,CNY,支票")) {
		t.Error("UTF-8 支票 not recognised")
	}
	if looksUTF8Chinese([]byte("Müller")) {
		t.Error("Latin text taken for Chinese")
	}
	d, enc, err := newLineDecoder(bytes.NewReader(append(gbk("a,b\n1,银行转账\n2,支票\n"), []byte("3,承兑汇票\n")...)), "", 0)
	if err != nil || enc != "gb18030" {
		t.Fatalf("%v %s", err, enc)
	}
	out, _ := io.ReadAll(d)
	if string(out) != "a,b\n1,银行转账\n2,支票\n\n" || len(d.bad) != 1 || d.bad[0].Line != 4 {
		t.Fatalf("decoded %q, bad %+v", out, d.bad)
	}
}

func readAll(t *testing.T, in string, lim source.Limits) ([]source.Row, []source.Reject, error) {
	t.Helper()
	tb, err := NewTable(strings.NewReader(in), "", ',', lim)
	if err != nil {
		return nil, nil, err
	}
	var rows []source.Row
	var bad []source.Reject
	for {
		r, err := tb.Next()
		bad = append(bad, tb.Pending()...)
		if err == io.EOF {
			return rows, bad, nil
		}
		if err != nil {
			return rows, bad, err
		}
		r.Fields = append([]string(nil), r.Fields...)
		rows = append(rows, r)
	}
}

// Old Mac and Excel exports end lines with CR alone: every line is read, with
// its line number; a CR inside a quoted value of such a file is a line end
// too (there is no other way to tell them apart).
func TestCROnlyLineEndings(t *testing.T) {
	rows, bad, err := readAll(t, "a,b\r1,x\r2,\"y\"\r\r3,z", source.Limits{})
	if err != nil || len(bad) != 0 {
		t.Fatalf("%v %v", err, bad)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d:%s", r.Line, strings.Join(r.Fields, "|")))
	}
	if want := "1:a|b 2:1|x 3:2|y 5:3|z"; strings.Join(got, " ") != want {
		t.Fatalf("rows %q, want %q", strings.Join(got, " "), want)
	}
	// CR LF and LF files are not touched: a CR inside a quoted value stays.
	rows, _, _ = readAll(t, "a,b\r\n1,\"x\ry\"\r\n", source.Limits{})
	if len(rows) != 2 || rows[1].Fields[1] != "x\ry" {
		t.Fatalf("CRLF file: %+v", rows)
	}
}

// A line longer than the limit is refused without being kept in memory, and
// the lines around it are read.
func TestLongLineIsRefusedAndSkipped(t *testing.T) {
	lim := source.Limits{MaxTextBytes: 1 << 10}.WithDefaults() // lines of at most 1 MiB
	long := strings.Repeat("A", 3<<20)
	rows, bad, err := readAll(t, "a,b\n1,x\n2,"+long+"\n3,z\n", lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[2].Line != 4 || len(bad) != 1 || bad[0].Line != 3 ||
		!strings.Contains(bad[0].Reason, "the line is 3 MiB long, more than the limit of 1 MiB") || len(bad[0].Value) > 300 {
		t.Fatalf("rows %+v bad %+v", rows, bad)
	}
}

// A quote that never closes makes one record of the rest of the file: it is
// stopped at the limit with a clear error instead of read into memory.
func TestUnclosedQuoteIsBounded(t *testing.T) {
	lim := source.Limits{MaxTextBytes: 1 << 10}.WithDefaults()
	body := "a,b\n1,\"x\n" + strings.Repeat("more text of the same value\n", 100000)
	_, _, err := readAll(t, body, lim)
	if err == nil || !strings.Contains(err.Error(), "is a quote never closed") {
		t.Fatalf("err = %v", err)
	}
}
