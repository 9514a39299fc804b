package ndjson

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/etl/source"
)

func TestRowsAsText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.ndjson")
	os.WriteFile(p, []byte("\xef\xbb\xbf{\"a\":\"x\",\"b\":1.50}\n\n{\"b\":null,\"c\":true,\"a\":{\"k\":[1]}}\r\nnot json\n{\"a\":\""+strings.Repeat("z", 2<<20)+"\"}\n{\"c\":false}\n"), 0o644)
	tb, err := (&Source{Path: p}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	var got []string
	var bad []source.Reject
	for {
		r, err := tb.Next()
		bad = append(bad, tb.Pending()...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(append([]string{string(rune('0' + r.Line))}, r.Fields...), "|")+r.Reason)
	}
	want := []string{"0|a|b|c", "1|x|1.50|", `3|{"k":[1]}||true`, "4not a JSON object on one line: invalid character 'o' in literal null (expecting 'u')", "6|||false"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(bad) != 1 || bad[0].Line != 5 || !strings.Contains(bad[0].Reason, "more than the limit of 2 MiB") {
		t.Fatalf("pending %+v", bad)
	}
}

func TestJSONArrayIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(p, []byte("[{\"a\":1}]\n"), 0o644)
	if _, err := (&Source{Path: p}).Open(context.Background()); err == nil || !strings.Contains(err.Error(), "JSON array") {
		t.Fatalf("err = %v", err)
	}
}
