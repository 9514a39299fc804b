package query

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Pinyin for the search box: a Chinese user types "zfq" or "zhangfeiqi" for
// 张飞奇, as every Chinese CRM lets them. The index holds the initials and the
// full spelling of every customer and rep name that has Chinese characters,
// built once per data version. It only names candidate ids: search.sql
// reads them through the user's scoped relations like every other hit, so
// the index never shows a row the user cannot see.

//go:embed sql/pinyin_names.sql
var pinyinNamesSQL string

// maxPinyinIDs bounds the ids one search hands to search.sql. The index
// knows nothing of scopes, so it must hand over enough for a rep's own
// customers to be among them when a short word matches many names.
const maxPinyinIDs = 20000

type pinyinEntry struct {
	id       string
	initials string // zfq
	full     string // zhangfeiqi
}

type pinyinIndex struct {
	version string
	entries []pinyinEntry
}

// pinyinState is the Service's index (built at most once per version).
type pinyinState struct {
	mu    sync.Mutex
	index *pinyinIndex
}

// PinyinIDs returns the ids of customers and reps whose name's pinyin
// initials or spelling start with q (lower-case Latin letters, at least two),
// initials first; nil when q is not such a word. Names are read unscoped to
// build the index, but only their ids leave this function, to be filtered
// by the user's scope.
func (s *Service) PinyinIDs(e *Env, q string) ([]string, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if len(q) < 2 || len(q) > 40 {
		return nil, nil
	}
	for _, r := range q {
		if r < 'a' || r > 'z' {
			return nil, nil
		}
	}
	st, err := s.State(e.Ctx)
	if err != nil {
		return nil, err
	}
	idx, err := s.pinyinIndex(e, st.Version)
	if err != nil {
		return nil, err
	}
	var first, then []string
	for _, en := range idx.entries {
		switch {
		case strings.HasPrefix(en.initials, q):
			first = append(first, en.id)
		case strings.HasPrefix(en.full, q):
			then = append(then, en.id)
		}
		if len(first) >= maxPinyinIDs {
			break
		}
	}
	out := append(first, then...)
	return out[:min(len(out), maxPinyinIDs)], nil
}

func (s *Service) pinyinIndex(e *Env, version string) (*pinyinIndex, error) {
	s.pinyin.mu.Lock()
	defer s.pinyin.mu.Unlock()
	if s.pinyin.index != nil && s.pinyin.index.version == version {
		return s.pinyin.index, nil
	}
	res, err := s.query(e.Ctx, pinyinNamesSQL, nil)
	if err != nil {
		return nil, fmt.Errorf("reading names for the pinyin search: %w", err)
	}
	idx := &pinyinIndex{version: version, entries: make([]pinyinEntry, 0, len(res.Rows))}
	args := pinyin.NewArgs()
	for i := range res.Rows {
		initials, full := pinyinOf(res.Str(i, "name"), args)
		if initials != "" {
			idx.entries = append(idx.entries, pinyinEntry{id: res.Str(i, "id"), initials: initials, full: full})
		}
	}
	s.pinyin.index = idx
	return idx, nil
}

// pinyinOf spells a name in pinyin: its initials and its full spelling, each
// lower case without spaces. Latin letters and digits count as themselves
// (华云IT → hyit); other characters are dropped. A character with several
// readings is read the usual way (重庆 is zhongqing, not chongqing, as most
// pinyin input methods also guess first).
func pinyinOf(name string, args pinyin.Args) (initials, full string) {
	var ini, all strings.Builder
	han := false
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Han, r):
			p := pinyin.SinglePinyin(r, args)
			if len(p) == 0 || p[0] == "" {
				continue
			}
			han = true
			ini.WriteByte(p[0][0])
			all.WriteString(p[0])
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			l := byte(unicode.ToLower(r))
			ini.WriteByte(l)
			all.WriteByte(l)
		}
	}
	if !han {
		return "", "" // a Latin name is found by the ordinary search
	}
	return ini.String(), all.String()
}
