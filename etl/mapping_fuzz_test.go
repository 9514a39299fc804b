package etl

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/etl/csv"
	"github.com/triscope/triscope/etl/source"
)

// FuzzParseMapping: a mapping file is outside input (an administrator's
// YAML, or one sent with a load through the server). Whatever the bytes,
// ParseMapping returns a mapping or an error, never panics; a mapping it
// accepts works: every rule's settings resolve (check and settingsFor agree),
// rules match file and sheet names, and its CSV dialect reads a file.
// Seeds: the mapping files of testdata/cases, the example of
// docs/loading.md, and testdata/fuzz/FuzzParseMapping/.
func FuzzParseMapping(f *testing.F) {
	cases, _ := filepath.Glob("testdata/cases/*/mapping.yaml")
	for _, p := range cases {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"files:\n  - match: \"回款*.csv\"\n    entity: payments\n    columns: {到账金额: amount, 客户: customer_id}\n    defaults: {currency: CNY}\n    mode: snapshot\n",
		"timezone: Asia/Shanghai\ndate_order: DMY\ndecimal_comma: true\nencoding: gbk\ndelimiter: \";\"\nfiles:\n  - match: \"*.csv\"\n    entity: customers\n",
		"files:\n  - match: crm.xlsx\n    sheet: \"商机*\"\n    entity: opportunities\n    values: {status: {已赢: won, 放弃: lost}}\n    date_formats: [\"%d.%m.%Y\"]\n    percent_as_fraction: [probability]\n    header_row: 3\n",
		"tables:\n  - entity: customers\n    table: crm.customers\n    watermark: updated_at\n    columns: {id: customer_id}\n",
		"delimiter: \"\\t\"\nfiles:\n  - match: \"[a-\"\n    skip: true\n",
		"files: [{match: '*', entity: payments, delimiter: '|', encoding: utf-16le, date_formats: ['DD.MM.YYYY %H:%M']}]",
		"a: &a [*a, *a]\n", "", "---\n---\n", "files: {}\n", "timezone: ../../etc/passwd\n", "files:\n-\n",
		"files: [{match: '*', entity: customers, delimiter: '\"'}]\n", "delimiter: \"\\n\"\nfiles: [{match: '*', entity: customers}]\n",
		"delimiter: \"\\r\"\nfiles: [{match: '*', entity: customers}]\n", "delimiter: \"\\uFFFD\"\nfiles: [{match: '*', entity: customers}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16<<10 {
			return
		}
		m, err := ParseMapping(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if m == nil {
			t.Fatal("no mapping and no error")
		}
		sample := "customer_id,name\nC1,x\n"
		for _, rules := range [][]*Rule{m.Files, m.Tables} {
			for _, r := range rules {
				if r.Skip || r.Entity == "" {
					continue
				}
				ent, err := EntityByName(r.Entity)
				if err != nil {
					t.Fatalf("%s: accepted with an unknown entity %q: %v", r.where(), r.Entity, err)
				}
				s, err := m.settingsFor(r, ent, Options{})
				if err != nil {
					t.Fatalf("%s: accepted by the check but its settings fail: %v", r.where(), err)
				}
				// Its CSV dialect reads a plain file (a delimiter the reader
				// refuses must be refused by the check, with the rule's line).
				if s.encoding == "" || s.encoding == "utf-8" {
					tb, err := csv.NewTable(strings.NewReader(strings.ReplaceAll(sample, ",", string(s.delimiter))), s.encoding, s.delimiter, source.Limits{})
					if err != nil {
						t.Fatalf("%s: the CSV reader refuses the rule's dialect: %v", r.where(), err)
					}
					for {
						if _, err := tb.Next(); err == io.EOF {
							break
						} else if err != nil {
							t.Fatalf("%s: delimiter %q accepted by the check, refused by the CSV reader: %v", r.where(), s.delimiter, err)
						}
					}
				}
			}
		}
		m.ruleFor("payments.csv", "")
		m.ruleFor(`C:\exports\回款 2024.xlsx`, "商机[1]")
		if _, err := m.settingsFor(nil, &Entity{Name: "payments"}, Options{}); err != nil {
			t.Fatalf("the mapping's top level was accepted but does not resolve: %v", err)
		}
	})
}
