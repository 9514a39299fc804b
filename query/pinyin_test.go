package query

import (
	"testing"

	"github.com/mozillazg/go-pinyin"
)

func TestPinyinOf(t *testing.T) {
	args := pinyin.NewArgs()
	for _, tc := range []struct{ name, initials, full string }{
		{"张飞奇", "zfq", "zhangfeiqi"},
		{"华云IT服务有限公司", "hyitfwyxgs", "huayunitfuwuyouxiangongsi"},
		{"北京·星辰 2号", "bjxc2h", "beijingxingchen2hao"},
		{"Acme Ltd", "", ""}, // no Chinese: the ordinary search finds it
	} {
		ini, full := pinyinOf(tc.name, args)
		if ini != tc.initials || full != tc.full {
			t.Errorf("pinyinOf(%q) = %q, %q; want %q, %q", tc.name, ini, full, tc.initials, tc.full)
		}
	}
}
