package ndjson

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/triscope/triscope/etl/source"
)

// FuzzNDJSON: whatever the bytes of a .ndjson file, Open returns a table or
// an error, never panics; the table yields the keys, then rows as wide as
// the keys (or a reason), with increasing physical line numbers inside the
// file, every value valid UTF-8 text; lines over the limit are refused
// (Pending) without being held. Seeds below and in testdata/fuzz/FuzzNDJSON/.
func FuzzNDJSON(f *testing.F) {
	for _, s := range []string{
		"{\"a\":\"x\",\"b\":1.50}\n{\"b\":null,\"c\":true,\"a\":{\"k\":[1]}}\n",
		"\xef\xbb\xbf{\"payment_id\":\"P1\",\"amount\":\"1,234.50\",\"paid_on\":\"2024-01-05\"}\r\n\r\n",
		"{\"a\":1}\nnot json\n{\"a\":\"\\ud800\"}\n{\"a\":\"\\u0000\"}\n",
		"[{\"a\":1}]\n", "{}\n{\"a\":1}{\"a\":2}\n", "{\"a\":1,\"a\":2}\n", "{\"\":\"\"}\n",
		"{\"a\":\"" + string(bytes.Repeat([]byte("z"), 200)) + "\"}\n{\"a\":2}\n",
		"{\"a\":1}\n\xff\xfe{\"a\":2}\n", "{\"a\":1", "\n\n\n", "{\"a\":[1,{\"b\":[]}]}\n", "{\"a\":1e400}\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, smallLines bool) {
		if len(data) > 1<<20 {
			return
		}
		p := filepath.Join(t.TempDir(), "x.ndjson")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		lim := source.Limits{}
		if smallLines {
			lim.MaxLineBytes = 64
		}
		tb, err := (&Source{Path: p, Limits: lim}).Open(context.Background())
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		defer tb.Close()
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		head, err := tb.Next()
		if err != nil || head.Line != 0 || len(head.Fields) == 0 {
			t.Fatalf("the header: %+v, %v", head, err)
		}
		header := slices.Clone(head.Fields)
		seen := map[string]bool{}
		for _, k := range header {
			if seen[k] {
				t.Fatalf("key %q twice in the header %q", k, header)
			}
			seen[k] = true
		}
		last := int64(0)
		for n := 0; ; n++ {
			if n > int(lines)+1 {
				t.Fatalf("more rows than lines (%d)", lines)
			}
			r, err := tb.Next()
			for _, rej := range tb.Pending() {
				if rej.Line < 1 || rej.Line > lines || rej.Reason == "" {
					t.Fatalf("a refused line %+v of %d", rej, lines)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if r.Line <= last || r.Line > lines {
				t.Fatalf("line %d after %d (the file has %d)", r.Line, last, lines)
			}
			last = r.Line
			if r.Reason != "" {
				if r.Fields != nil {
					t.Fatalf("line %d: a reason and fields", r.Line)
				}
				continue
			}
			if len(r.Fields) != len(header) {
				t.Fatalf("line %d: %d fields, %d keys", r.Line, len(r.Fields), len(header))
			}
			for _, v := range r.Fields {
				if !utf8.ValidString(v) {
					t.Fatalf("line %d: value %q is not UTF-8", r.Line, v)
				}
				if smallLines && len(v) > 64 {
					t.Fatalf("line %d: a value of %d bytes from a line limited to 64", r.Line, len(v))
				}
			}
		}
	})
}
