package etl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// Headers recognised as a person would: one alias list can never hold every
// way a company writes "rep code" (业务员编码, 销售员代码, SalesRepCode …).
// A header that matches no name, alias or mapping entry is compared with the
// contract's names and aliases after folding the words that mean the same
// thing in a header (编码/代码/编号/id/code/no …, 日期/时间/date …), and read as
// the column it resembles when the resemblance is strong and unambiguous.
// The load says so in a warning and in the mapping it shows.

// similarEnough is the least resemblance a header needs to be read as a
// column; similarMargin is how much better than any other column it must
// resemble that one.
const (
	similarEnough = 0.8
	similarMargin = 0.15
)

// headerWords fold the words of a header that mean the same thing into one
// symbol. Chinese words are replaced where they occur (longest first);
// English ones only as whole words.
var headerWords = []struct {
	symbol string
	zh, en []string
}{
	{"#", []string{"识别码", "编码", "代码", "编号", "号码", "代号", "序列号", "id", "号"}, []string{"id", "code", "no", "nr", "num", "number", "key", "ref"}},
	{"@", []string{"日期", "时间", "时点", "日"}, []string{"date", "day", "time", "dt", "on", "at"}},
	{"$", []string{"金额", "价值", "数额", "额"}, []string{"amount", "amt", "value", "sum", "total"}},
	{"N", []string{"名称", "名字", "姓名", "名"}, []string{"name", "title"}},
	{"R", []string{"销售代表", "销售人员", "销售员", "业务员", "业务代表", "归属销售", "客户经理", "负责人", "员工", "销售"}, []string{"rep", "salesperson", "salesman", "seller", "employee", "staff", "sales", "owner"}},
	{"C", []string{"客户", "顾客", "买方"}, []string{"customer", "cust", "client", "account", "buyer"}},
	{"%", []string{"百分比", "比例", "比率", "概率", "率"}, []string{"pct", "percent", "percentage", "rate", "ratio", "probability", "prob"}},
}

// zhWords is every Chinese word of headerWords, longest first.
var zhWords = func() []struct{ word, symbol string } {
	var out []struct{ word, symbol string }
	for _, w := range headerWords {
		for _, z := range w.zh {
			out = append(out, struct{ word, symbol string }{z, w.symbol})
		}
	}
	slices.SortStableFunc(out, func(a, b struct{ word, symbol string }) int {
		return len([]rune(b.word)) - len([]rune(a.word))
	})
	return out
}()

var enWords = func() map[string]string {
	m := map[string]string{}
	for _, w := range headerWords {
		for _, e := range w.en {
			m[e] = w.symbol
		}
	}
	return m
}()

// foldHeader is the form in which headers are compared for resemblance: camel
// case split, canonical (canonHeader), synonyms folded, separators dropped.
func foldHeader(h string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range h {
		if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
			b.WriteByte('_')
		}
		b.WriteRune(r)
		prev = r
	}
	words := strings.Split(canonHeader(b.String()), "_")
	for i, w := range words {
		if s, ok := enWords[w]; ok {
			words[i] = s
			continue
		}
		for _, z := range zhWords {
			w = strings.ReplaceAll(w, z.word, z.symbol)
		}
		words[i] = w
	}
	// "sales rep" is one person, not two
	out := []rune(strings.Join(words, ""))
	return string(slices.CompactFunc(out, func(a, b rune) bool { return a == b && isSymbol(a) }))
}

// headerKinds are the symbols that say what kind of value a column holds:
// two headers of different kinds (an id and an amount) are not alike however
// much else they share.
const headerKinds = "#@$%N"

func isSymbol(r rune) bool { return strings.ContainsRune(headerKinds+"RC", r) }

func kindsOf(s string) string {
	var b []rune
	for _, r := range s {
		if strings.ContainsRune(headerKinds, r) && !slices.Contains(b, r) {
			b = append(b, r)
		}
	}
	slices.Sort(b)
	return string(b)
}

// resemblance is how alike two folded headers are, from 0 to 1: 1 when they
// are the same, else the Dice coefficient of their pairs of characters (the
// ends count as characters, so that one-word headers have pairs), halved
// when both say what kind of value they hold and the kinds differ.
func resemblance(a, b string) float64 {
	if a == "" || b == "" {
		return 0
	}
	if a == b {
		return 1
	}
	pa, pb := charPairs(a), charPairs(b)
	if len(pa) == 0 || len(pb) == 0 {
		return 0
	}
	common := 0
	for p, n := range pa {
		common += min(n, pb[p])
	}
	na, nb := 0, 0
	for _, n := range pa {
		na += n
	}
	for _, n := range pb {
		nb += n
	}
	d := 2 * float64(common) / float64(na+nb)
	if ka, kb := kindsOf(a), kindsOf(b); ka != "" && kb != "" && ka != kb {
		d /= 2
	}
	return d
}

func charPairs(s string) map[[2]rune]int {
	r := []rune("\x02" + s + "\x03")
	m := map[[2]rune]int{}
	for i := 0; i+1 < len(r); i++ {
		m[[2]rune{r[i], r[i+1]}]++
	}
	return m
}

// likeness is how much a header resembles a column: the best over the
// column's name and aliases, with the name or alias it resembles most.
func likeness(c Column, folded string) (float64, string) {
	best, like := resemblance(folded, foldHeader(c.Name)), c.Name
	for _, a := range c.Aliases {
		if s := resemblance(folded, foldHeader(a)); s > best {
			best, like = s, a
		}
	}
	return best, like
}

// similarMatch is a header read as the column it resembles.
type similarMatch struct {
	idx    int // the header's position
	column string
	score  float64
	like   string // the name or alias it resembles
}

// matchSimilar reads headers that match nothing (their positions in unmatched)
// as the columns no other header fills (open). A header the same as a
// column's name or alias once folded is read as that column when no other
// header or column is the same; then a header is read as the column it
// resembles clearly more than any other, when no other header resembles that
// column nearly as much.
func matchSimilar(ent *Entity, header []string, unmatched []int, open map[string]bool) []similarMatch {
	type pair struct {
		idx    int
		column string
		score  float64
		like   string
	}
	var pairs []pair
	for _, j := range unmatched {
		folded := foldHeader(header[j])
		for _, c := range ent.Columns {
			if open[c.Name] {
				if s, like := likeness(c, folded); s > 0 {
					pairs = append(pairs, pair{j, c.Name, s, like})
				}
			}
		}
	}
	var out []similarMatch
	taken := map[int]bool{}
	free := maps.Clone(open)
	// Pass 1: the same once folded, one to one.
	for _, p := range pairs {
		if p.score < 1 {
			continue
		}
		alone := true
		for _, o := range pairs {
			if o.score == 1 && o != p && (o.idx == p.idx || o.column == p.column) {
				alone = false
			}
		}
		if alone {
			out = append(out, similarMatch(p))
			taken[p.idx], free[p.column] = true, false
		}
	}
	// Pass 2: clearly the most alike, among what is left.
	var found []similarMatch
	for _, j := range unmatched {
		if taken[j] {
			continue
		}
		var best, second float64
		var m similarMatch
		for _, p := range pairs {
			if p.idx != j || !free[p.column] {
				continue
			}
			switch {
			case p.score > best:
				second, best = best, p.score
				m = similarMatch(p)
			case p.score > second:
				second = p.score
			}
		}
		if best >= similarEnough && best-second >= similarMargin {
			found = append(found, m)
		}
	}
	// Two headers resembling one column: neither is taken (a person must say
	// which, in the mapping).
	for _, m := range found {
		clash := false
		for _, o := range found {
			if o.idx != m.idx && o.column == m.column && o.score > m.score-similarMargin {
				clash = true
			}
		}
		if !clash {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b similarMatch) int { return a.idx - b.idx })
	return out
}

// closestHeaders names the headers most like column c, best first (at most
// three, each at least a little alike), for the message about a missing
// required column.
func closestHeaders(c Column, header []string, skip func(int) bool) []string {
	type cand struct {
		h     string
		score float64
	}
	var cs []cand
	for j, h := range header {
		if skip(j) || strings.TrimSpace(h) == "" {
			continue
		}
		if s, _ := likeness(c, foldHeader(h)); s >= 0.3 {
			cs = append(cs, cand{h, s})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	var out []string
	for _, c := range cs[:min(3, len(cs))] {
		out = append(out, fmt.Sprintf("%q (%.0f%% alike)", c.h, 100*c.score))
	}
	return out
}
