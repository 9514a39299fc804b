package etl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Headers no alias list holds are read as the column they clearly resemble
// (issue 17 point 12), and only then: an ambiguous header, or one that names
// another kind of value, is left alone.
func TestHeadersReadAsAPersonWould(t *testing.T) {
	cases := []struct {
		entity string
		header []string
		want   map[string]string // contract column → header read as it (by resemblance)
		extra  []string          // headers left unread
	}{
		{
			entity: "contracts",
			header: []string{"合同编号", "客户编号", "业务员编码", "商机编号", "签约日", "合同额", "币种", "状态"},
			want:   map[string]string{"owner_rep_id": "业务员编码", "signed_on": "签约日", "amount": "合同额"},
		},
		{
			entity: "opportunities",
			header: []string{"OpportunityCode", "CustomerCode", "SalesRepCode", "Stage", "Status", "Amount"},
			want:   map[string]string{"opportunity_id": "OpportunityCode", "customer_id": "CustomerCode", "owner_rep_id": "SalesRepCode"},
		},
		{
			entity: "payments",
			header: []string{"Payment Ref", "Contract Code", "Customer Code", "Payment Day", "Payment Amt", "Currency"},
			want:   map[string]string{"payment_id": "Payment Ref", "contract_id": "Contract Code", "paid_on": "Payment Day", "amount": "Payment Amt"},
		},
		{
			// "Date" could be the signing, start or end date: not taken.
			entity: "contracts",
			header: []string{"合同编号", "客户编号", "签约日期", "金额", "Date"},
			want:   map[string]string{},
			extra:  []string{"Date"},
		},
		{
			// An amount header is not read as the missing id however alike the
			// rest of it is.
			entity: "payments",
			header: []string{"回款日期", "回款金额", "客户编号", "合同编号", "Payment Amount Total"},
			want:   map[string]string{},
			extra:  []string{"Payment Amount Total"},
		},
	}
	for _, tc := range cases {
		ent, err := EntityByName(tc.entity)
		if err != nil {
			t.Fatal(err)
		}
		plan, extra, warnings, err := matchColumns(ent, tc.header, &settings{})
		if err != nil {
			t.Fatalf("%s %v: %v", tc.entity, tc.header, err)
		}
		got := map[string]string{}
		for _, p := range plan {
			if p.how == "similar" {
				got[p.col.Name] = p.header
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s %v: read by resemblance %v, want %v", tc.entity, tc.header, got, tc.want)
		}
		for c, h := range tc.want {
			if got[c] != h {
				t.Errorf("%s: %s read from %q, want %q", tc.entity, c, got[c], h)
			}
		}
		for _, x := range tc.extra {
			found := false
			for _, e := range extra {
				found = found || e == x
			}
			if !found {
				t.Errorf("%s: header %q should stay unread (extra %v)", tc.entity, x, extra)
			}
		}
		if n := strings.Count(strings.Join(warnings, "\n"), "was read as"); n != len(tc.want) {
			t.Errorf("%s: %d warnings say what was read by resemblance, want %d: %q", tc.entity, n, len(tc.want), warnings)
		}
	}
}

// A missing required column names the closest headers and the command that
// writes a mapping.
func TestMissingColumnNamesTheClosestHeaders(t *testing.T) {
	ent, _ := EntityByName("payments")
	_, _, _, err := planColumns(ent, []string{"Payment Ref", "Contract Code", "Customer Code", "Payment Day", "Currency"}, nil)
	if err == nil {
		t.Fatal("a file without amounts loaded")
	}
	for _, want := range []string{"required column amount is missing", "--suggest-mapping"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	_, _, _, err = planColumns(ent, []string{"Pay No", "Contract Code", "Customer Code", "Payment Day", "Payment Amt", "Currency"}, nil)
	if err == nil || !strings.Contains(err.Error(), `closest headers in the file: "Pay No"`) {
		t.Errorf("a missing payment id should name the closest header \"Pay No\": %v", err)
	}
}

// --suggest-mapping writes a mapping that parses and loads the files it was
// made from, with the file's name escaped where it holds wildcards.
func TestSuggestMappingLoads(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A file named after no entity, with a title row, English headers no
	// alias holds, and one column ("Cust") too short to be read by itself.
	export := write("export[1].csv", "Exported 2026-12-01\n"+
		"Payment Ref,Contract Code,Cust,Payment Day,Payment Amt,Currency,Remark\n"+
		"P-1,K-1,C-1,2026-01-02,100.00,CNY,x\n"+
		"P-2,K-1,C-1,2026-02-02,250.50,CNY,y\n")
	// A sibling the glob export[1].csv would match if it were not escaped.
	write("export1.csv", "nothing,to,see\n1,2,3\n")
	b, err := SuggestMapping(context.Background(), []string{export}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`match: "export\\[1\\].csv"`,
		"entity: payments    # check: guessed from the headers",
		"header_row: 2",
		`"Payment Amt": amount`,
		`"Cust": customer_id    # check: customer_id is required`,
		`# not loaded (no contract column): "Remark"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the suggested mapping lacks %q:\n%s", want, text)
		}
	}
	m, err := ParseMapping(b)
	if err != nil {
		t.Fatalf("the suggested mapping does not parse: %v\n%s", err, text)
	}
	w := openWarehouse(t)
	rep := mustLoad(t, w, []string{export}, Options{Mapping: m})
	if got := count(t, w, "SELECT count(*) FROM payments"); got != 2 {
		t.Fatalf("loaded %d payments with the suggested mapping, want 2 (%+v)", got, rep.Files[0])
	}
	if got := count(t, w, "SELECT count(*) FROM payments WHERE customer_id = 'C-1' AND amount = 250.50"); got != 1 {
		t.Errorf("the payments' columns were not read as suggested")
	}
}
