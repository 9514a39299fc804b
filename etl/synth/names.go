package synth

import (
	"strings"
)

// Locale-dependent display texts. Codes (industry, source, category, channel
// and every loader-validated enum) are English in both locales so models and
// dashboards can key on them; names, cities, regions, product names, product
// lines, campaign names, close reasons and competitors are localised.

const (
	en = 0
	zh = 1
)

type l2 [2]string // en, zh

type regionDef struct {
	name     l2
	amtScale float64
	branches []branchDef
}

type branchDef struct {
	city   l2
	weight float64
}

var regionDefs = []regionDef{
	{l2{"East China", "华东区"}, 1.10, []branchDef{
		{l2{"Shanghai", "上海"}, 10}, {l2{"Hangzhou", "杭州"}, 6}, {l2{"Nanjing", "南京"}, 5},
		{l2{"Suzhou", "苏州"}, 6}, {l2{"Ningbo", "宁波"}, 4}, {l2{"Wuxi", "无锡"}, 3.5},
		{l2{"Hefei", "合肥"}, 3.5}, {l2{"Jinan", "济南"}, 3.5}, {l2{"Qingdao", "青岛"}, 4},
		{l2{"Fuzhou", "福州"}, 3}, {l2{"Xiamen", "厦门"}, 2.5}, {l2{"Nanchang", "南昌"}, 2.5}}},
	{l2{"North China", "华北区"}, 1.10, []branchDef{
		{l2{"Beijing", "北京"}, 10}, {l2{"Tianjin", "天津"}, 4.5}, {l2{"Shijiazhuang", "石家庄"}, 2.5},
		{l2{"Taiyuan", "太原"}, 2}, {l2{"Hohhot", "呼和浩特"}, 1.5}, {l2{"Tangshan", "唐山"}, 2},
		{l2{"Baoding", "保定"}, 1.5}}},
	{l2{"South China", "华南区"}, 1.10, []branchDef{
		{l2{"Guangzhou", "广州"}, 8}, {l2{"Shenzhen", "深圳"}, 9}, {l2{"Dongguan", "东莞"}, 3.5},
		{l2{"Foshan", "佛山"}, 3.5}, {l2{"Nanning", "南宁"}, 2}, {l2{"Haikou", "海口"}, 1.5}}},
	{l2{"Central China", "华中区"}, 0.92, []branchDef{
		{l2{"Wuhan", "武汉"}, 5}, {l2{"Changsha", "长沙"}, 4}, {l2{"Zhengzhou", "郑州"}, 4},
		{l2{"Luoyang", "洛阳"}, 1.5}, {l2{"Yichang", "宜昌"}, 1.5}, {l2{"Xiangyang", "襄阳"}, 1.5}}},
	{l2{"Southwest", "西南区"}, 0.92, []branchDef{
		{l2{"Chengdu", "成都"}, 6}, {l2{"Chongqing", "重庆"}, 5.5}, {l2{"Kunming", "昆明"}, 2.5},
		{l2{"Guiyang", "贵阳"}, 2}, {l2{"Mianyang", "绵阳"}, 1.5}}},
	{l2{"Northwest", "西北区"}, 0.82, []branchDef{
		{l2{"Xi'an", "西安"}, 4}, {l2{"Lanzhou", "兰州"}, 1.5}, {l2{"Urumqi", "乌鲁木齐"}, 1.5},
		{l2{"Yinchuan", "银川"}, 1}, {l2{"Xining", "西宁"}, 1}}},
	{l2{"Northeast", "东北区"}, 0.86, []branchDef{
		{l2{"Shenyang", "沈阳"}, 3}, {l2{"Dalian", "大连"}, 3}, {l2{"Changchun", "长春"}, 2},
		{l2{"Harbin", "哈尔滨"}, 2.5}, {l2{"Daqing", "大庆"}, 1}}},
}

var companyName = l2{"Huayun Software Co., Ltd.", "华云软件股份有限公司"}

var deptNames = []l2{
	{"Sales Dept. 1", "销售一部"}, {"Sales Dept. 2", "销售二部"},
	{"Key Accounts", "大客户部"}, {"Channel Sales", "渠道销售部"},
}

// Person names.
type hz struct{ c, py string }

var surnames = []hz{
	{"王", "Wang"}, {"李", "Li"}, {"张", "Zhang"}, {"刘", "Liu"}, {"陈", "Chen"}, {"杨", "Yang"},
	{"黄", "Huang"}, {"赵", "Zhao"}, {"吴", "Wu"}, {"周", "Zhou"}, {"徐", "Xu"}, {"孙", "Sun"},
	{"马", "Ma"}, {"朱", "Zhu"}, {"胡", "Hu"}, {"郭", "Guo"}, {"何", "He"}, {"高", "Gao"},
	{"林", "Lin"}, {"罗", "Luo"}, {"郑", "Zheng"}, {"梁", "Liang"}, {"谢", "Xie"}, {"宋", "Song"},
	{"唐", "Tang"}, {"许", "Xu"}, {"韩", "Han"}, {"冯", "Feng"}, {"邓", "Deng"}, {"曹", "Cao"},
	{"彭", "Peng"}, {"曾", "Zeng"}, {"肖", "Xiao"}, {"田", "Tian"}, {"董", "Dong"}, {"袁", "Yuan"},
	{"潘", "Pan"}, {"于", "Yu"}, {"蒋", "Jiang"}, {"蔡", "Cai"}, {"余", "Yu"}, {"杜", "Du"},
	{"叶", "Ye"}, {"程", "Cheng"}, {"苏", "Su"}, {"魏", "Wei"}, {"吕", "Lyu"}, {"丁", "Ding"},
	{"任", "Ren"}, {"沈", "Shen"}, {"姚", "Yao"}, {"卢", "Lu"}, {"姜", "Jiang"}, {"崔", "Cui"},
	{"钟", "Zhong"}, {"谭", "Tan"}, {"陆", "Lu"}, {"汪", "Wang"}, {"范", "Fan"}, {"金", "Jin"},
	{"石", "Shi"}, {"廖", "Liao"}, {"贾", "Jia"}, {"夏", "Xia"}, {"韦", "Wei"}, {"付", "Fu"},
	{"方", "Fang"}, {"白", "Bai"}, {"邹", "Zou"}, {"孟", "Meng"}, {"熊", "Xiong"}, {"秦", "Qin"},
	{"邱", "Qiu"}, {"江", "Jiang"}, {"尹", "Yin"}, {"薛", "Xue"}, {"闫", "Yan"}, {"段", "Duan"},
	{"雷", "Lei"}, {"侯", "Hou"}, {"龙", "Long"}, {"史", "Shi"}, {"陶", "Tao"}, {"黎", "Li"},
	{"贺", "He"}, {"顾", "Gu"}, {"毛", "Mao"}, {"郝", "Hao"}, {"龚", "Gong"}, {"邵", "Shao"},
	{"万", "Wan"}, {"钱", "Qian"}, {"严", "Yan"}, {"武", "Wu"}, {"戴", "Dai"}, {"莫", "Mo"},
	{"孔", "Kong"}, {"向", "Xiang"}, {"汤", "Tang"},
}

var givenChars = []hz{
	{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"}, {"丽", "li"},
	{"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"}, {"勇", "yong"}, {"艳", "yan"},
	{"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"}, {"明", "ming"}, {"超", "chao"}, {"秀", "xiu"},
	{"霞", "xia"}, {"平", "ping"}, {"刚", "gang"}, {"桂", "gui"}, {"英", "ying"}, {"华", "hua"},
	{"建", "jian"}, {"文", "wen"}, {"辉", "hui"}, {"玲", "ling"}, {"婷", "ting"}, {"鹏", "peng"},
	{"宇", "yu"}, {"浩", "hao"}, {"欣", "xin"}, {"雪", "xue"}, {"琳", "lin"}, {"晨", "chen"},
	{"博", "bo"}, {"佳", "jia"}, {"俊", "jun"}, {"凯", "kai"}, {"斌", "bin"}, {"峰", "feng"},
	{"燕", "yan"}, {"梅", "mei"}, {"红", "hong"}, {"云", "yun"}, {"飞", "fei"}, {"鑫", "xin"},
	{"志", "zhi"}, {"海", "hai"}, {"亮", "liang"}, {"春", "chun"}, {"晓", "xiao"}, {"丹", "dan"},
	{"慧", "hui"}, {"颖", "ying"}, {"倩", "qian"}, {"阳", "yang"}, {"帆", "fan"}, {"琪", "qi"},
	{"雨", "yu"}, {"子", "zi"}, {"思", "si"}, {"嘉", "jia"}, {"翔", "xiang"}, {"天", "tian"},
	{"一", "yi"}, {"诗", "shi"}, {"睿", "rui"}, {"泽", "ze"}, {"昊", "hao"}, {"晗", "han"},
	{"彤", "tong"}, {"瑶", "yao"}, {"萌", "meng"}, {"璐", "lu"}, {"哲", "zhe"}, {"然", "ran"},
	{"轩", "xuan"}, {"涵", "han"}, {"宁", "ning"}, {"立", "li"}, {"国", "guo"}, {"庆", "qing"},
	{"永", "yong"}, {"德", "de"}, {"成", "cheng"}, {"新", "xin"}, {"健", "jian"}, {"东", "dong"},
	{"振", "zhen"}, {"毅", "yi"}, {"安", "an"}, {"恩", "en"},
}

// brandChars are the characters of company trade names (字号). Entries whose
// pinyin repeats an earlier one are dropped at init, so that every brand
// index maps to a distinct English name too.
var brandCharsRaw = []hz{
	{"华", "hua"}, {"鑫", "xin"}, {"泰", "tai"}, {"恒", "heng"}, {"盛", "sheng"}, {"达", "da"},
	{"博", "bo"}, {"宇", "yu"}, {"远", "yuan"}, {"瑞", "rui"}, {"嘉", "jia"}, {"丰", "feng"},
	{"润", "run"}, {"德", "de"}, {"金", "jin"}, {"银", "yin"}, {"宏", "hong"}, {"明", "ming"},
	{"光", "guang"}, {"海", "hai"}, {"天", "tian"}, {"安", "an"}, {"康", "kang"}, {"正", "zheng"},
	{"中", "zhong"}, {"东", "dong"}, {"方", "fang"}, {"北", "bei"}, {"南", "nan"}, {"西", "xi"},
	{"云", "yun"}, {"龙", "long"}, {"腾", "teng"}, {"飞", "fei"}, {"创", "chuang"}, {"联", "lian"},
	{"通", "tong"}, {"科", "ke"}, {"智", "zhi"}, {"力", "li"}, {"美", "mei"}, {"永", "yong"},
	{"昌", "chang"}, {"和", "he"}, {"平", "ping"}, {"兴", "xing"}, {"发", "fa"}, {"富", "fu"},
	{"贵", "gui"}, {"万", "wan"}, {"百", "bai"}, {"千", "qian"}, {"亿", "yi"}, {"辰", "chen"},
	{"阳", "yang"}, {"城", "cheng"}, {"林", "lin"}, {"森", "sen"}, {"山", "shan"}, {"川", "chuan"},
	{"江", "jiang"}, {"湖", "hu"}, {"港", "gang"}, {"桥", "qiao"}, {"路", "lu"}, {"航", "hang"},
	{"讯", "xun"}, {"威", "wei"}, {"豪", "hao"}, {"杰", "jie"}, {"英", "ying"}, {"雄", "xiong"},
	{"振", "zhen"}, {"汇", "hui"}, {"聚", "ju"}, {"融", "rong"}, {"卓", "zhuo"}, {"越", "yue"},
	{"超", "chao"}, {"凯", "kai"}, {"旭", "xu"}, {"思", "si"}, {"驰", "chi"}, {"骏", "jun"},
	{"鹏", "peng"}, {"翔", "xiang"}, {"宁", "ning"}, {"静", "jing"}, {"蓝", "lan"}, {"青", "qing"},
	{"紫", "zi"}, {"顺", "shun"}, {"优", "you"}, {"尚", "shang"}, {"品", "pin"}, {"本", "ben"},
	{"纳", "na"}, {"奥", "ao"}, {"欧", "ou"}, {"亚", "ya"}, {"环", "huan"}, {"球", "qiu"},
	{"世", "shi"}, {"纪", "ji"}, {"代", "dai"}, {"图", "tu"}, {"宝", "bao"}, {"珠", "zhu"},
	{"朗", "lang"}, {"泽", "ze"}, {"铁", "tie"}, {"木", "mu"}, {"松", "song"}, {"民", "min"},
	{"国", "guo"}, {"邦", "bang"}, {"乐", "le"}, {"寿", "shou"}, {"瀚", "han"}, {"绣", "xiu"},
	{"彩", "cai"}, {"霞", "xia"}, {"雷", "lei"}, {"电", "dian"}, {"能", "neng"}, {"星", "xing2"},
	{"合", "he2"}, {"峰", "feng2"}, {"诚", "cheng2"},
}

var brandChars []hz

func init() {
	seen := map[string]bool{}
	for _, c := range brandCharsRaw {
		if strings.ContainsAny(c.py, "0123456789") || seen[c.py] {
			continue
		}
		seen[c.py] = true
		brandChars = append(brandChars, c)
	}
}

// Industries: code, weight, zh/en words used in company names, product-line affinity.
type industryDef struct {
	code   string
	weight float64
	words  []l2
	lines  [nLines]float64 // affinity to product lines
	amt    float64         // deal size factor
}

var industries = []industryDef{
	{"manufacturing", 18, []l2{{"Machinery", "机械"}, {"Precision Manufacturing", "精密制造"}, {"Heavy Industry", "重工"}, {"Electronics", "电子"}},
		[nLines]float64{30, 12, 12, 20, 18, 8}, 1.1},
	{"retail", 12, []l2{{"Trading", "商贸"}, {"Department Store", "百货"}, {"Retail", "零售"}},
		[nLines]float64{14, 26, 14, 26, 12, 8}, 0.8},
	{"finance", 7, []l2{{"Investment", "投资"}, {"Capital", "资本"}, {"Financial Services", "金融服务"}},
		[nLines]float64{12, 30, 30, 6, 16, 6}, 1.4},
	{"healthcare", 8, []l2{{"Pharmaceutical", "医药"}, {"Medical", "医疗"}, {"Biotech", "生物科技"}},
		[nLines]float64{22, 20, 18, 14, 18, 8}, 1.1},
	{"education", 6, []l2{{"Education", "教育"}, {"Education Technology", "教育科技"}},
		[nLines]float64{12, 18, 14, 18, 14, 24}, 0.7},
	{"government", 5, []l2{{"Urban Construction Investment", "城建投资"}, {"Public Services", "公共服务"}},
		[nLines]float64{20, 10, 26, 14, 22, 8}, 1.3},
	{"energy", 5, []l2{{"Energy", "能源"}, {"Power", "电力"}, {"New Energy", "新能源"}},
		[nLines]float64{26, 10, 22, 16, 20, 6}, 1.4},
	{"logistics", 8, []l2{{"Logistics", "物流"}, {"Supply Chain", "供应链"}, {"Transport", "运输"}},
		[nLines]float64{24, 20, 14, 22, 14, 6}, 0.9},
	{"real_estate", 6, []l2{{"Real Estate", "置业"}, {"Property Management", "物业管理"}},
		[nLines]float64{18, 28, 16, 10, 18, 10}, 1.0},
	{"it", 12, []l2{{"Technology", "科技"}, {"Information Technology", "信息技术"}, {"Software", "软件"}},
		[nLines]float64{16, 26, 22, 12, 16, 8}, 0.9},
	{"telecom", 4, []l2{{"Communications", "通信"}, {"Network", "网络"}},
		[nLines]float64{16, 24, 26, 14, 14, 6}, 1.3},
	{"hospitality", 9, []l2{{"Hotel Management", "酒店管理"}, {"Catering", "餐饮"}, {"Tourism", "旅游"}},
		[nLines]float64{14, 26, 10, 26, 12, 12}, 0.7},
}

// Legal suffixes.
var legalSuffix = []l2{
	{"Co., Ltd.", "有限公司"}, {"Corp., Ltd.", "股份有限公司"}, {"Group Co., Ltd.", "集团有限公司"},
}

var partnerWords = []l2{
	{"Systems Integration", "系统集成"}, {"Information Services", "信息服务"}, {"Trading", "商贸"},
	{"Digital Technology", "数字科技"}, {"Computer Systems", "计算机系统"}, {"Network Engineering", "网络工程"},
}

// consonants used for Latin acronym brands: no vowels, so an acronym never
// equals a pinyin brand even after case folding.
const acronymLetters = "BCDFGHJKLMNPQRSTWXYZ"

// brandName returns the unique trade name for brand index u in both locales.
// Every 25th index is a Latin acronym (e.g. "BXK", full-width variants of
// which make duplicate customer records); the others are 2- or 3-character
// Chinese trade names with their pinyin.
func brandName(u int64) (string, string) {
	if u%25 == 0 {
		k := u / 25
		n := 3
		if k >= 8000 {
			k = ((k-8000)*7919 + 17) % 160000
			n = 4
		} else {
			k = (k*2953 + 1234) % 8000
		}
		var b [4]byte
		for i := n - 1; i >= 0; i-- {
			b[i] = acronymLetters[k%20]
			k /= 20
		}
		s := string(b[:n])
		return s, s
	}
	nb := int64(len(brandChars))
	two := nb * (nb - 1)
	var idx []int
	if u < two {
		a := u / (nb - 1)
		c := u % (nb - 1)
		if c >= a {
			c++
		}
		idx = []int{int(a), int(c)}
	} else {
		v := u - two
		idx = []int{int(v / (nb * nb) % nb), int(v / nb % nb), int(v % nb)}
	}
	var zhb, enb strings.Builder
	for i, j := range idx {
		zhb.WriteString(brandChars[j].c)
		enb.WriteString(pinyinJoin(i, brandChars[j].py))
	}
	return enb.String(), zhb.String()
}

// pinyinJoin capitalises the first syllable and separates a following
// syllable that starts with a vowel by an apostrophe (standard pinyin).
func pinyinJoin(i int, py string) string {
	if i == 0 {
		return strings.ToUpper(py[:1]) + py[1:]
	}
	switch py[0] {
	case 'a', 'e', 'o':
		return "'" + py
	}
	return py
}

func personName(sur, g1, g2 int, twoChar bool, loc int) string {
	s := surnames[sur]
	if loc == zh {
		if twoChar {
			return s.c + givenChars[g1].c + givenChars[g2].c
		}
		return s.c + givenChars[g1].c
	}
	given := pinyinJoin(0, givenChars[g1].py)
	if twoChar {
		given += pinyinJoin(1, givenChars[g2].py)
	}
	return s.py + " " + given
}

// Texts of close reasons, competitors, sources.
var wonReasons = []l2{
	{"relationship", "客户关系"}, {"product fit", "产品匹配"}, {"price", "价格优势"},
	{"service", "服务能力"}, {"brand", "品牌信任"}, {"partner support", "渠道支持"},
}
var wonReasonW = []float64{26, 28, 16, 12, 10, 8}

var lostReasons = []l2{
	{"price", "价格过高"}, {"competitor", "输给竞品"}, {"no decision", "客户未决策"},
	{"budget cut", "预算削减"}, {"relationship", "客户关系"}, {"product fit", "产品不匹配"},
	{"timing", "时机不成熟"}, {"duplicate registration", "重复报备"},
}
var lostReasonW = []float64{24, 24, 18, 12, 7, 9, 6, 0}

const lostDuplicate = 7
const lostCompetitor = 1
const lostNoDecision = 2

var competitors = []l2{
	{"Kingdee", "金蝶"}, {"Yonyou", "用友"}, {"Salesforce", "Salesforce"}, {"SAP", "SAP"},
	{"Oracle", "Oracle"}, {"Inspur", "浪潮"}, {"Microsoft Dynamics", "微软Dynamics"}, {"Fxiaoke", "纷享销客"},
}
var competitorW = []float64{22, 22, 10, 10, 8, 12, 6, 10}

var sources = []string{"referral", "campaign", "partner", "inbound", "outbound", "exhibition"}

const (
	srcReferral = iota
	srcCampaign
	srcPartner
	srcInbound
	srcOutbound
	srcExhibition
)

var sizeBands = []string{"micro", "small", "medium", "large", "enterprise"}
var sizeBandW = []float64{30, 32, 22, 11, 5}

var lifecycleNames = []string{"target", "potential", "opportunity", "transaction", "service"}

var stageNames = []string{"lead", "qualified", "needs_analysis", "proposal", "negotiation", "won", "lost"}
var stageProb = []int{10, 20, 40, 60, 80, 100, 0}

const (
	stLead = iota
	stQualified
	stNeeds
	stProposal
	stNegotiation
	stWon
	stLost
)

var statusNames = []string{"open", "won", "lost"}

const (
	statOpen = iota
	statWon
	statLost
)

var contractStatusNames = []string{"active", "completed", "terminated", "cancelled"}

const (
	ctActive = iota
	ctCompleted
	ctTerminated
	ctCancelled
)

var methods = []string{"bank_transfer", "acceptance_bill", "cheque", "cash", "card", "online"}

var expenseCats = []string{"travel", "entertainment", "presales", "service", "marketing"}

const (
	exTravel = iota
	exEntertainment
	exPresales
	exService
	exMarketing
)

var activityKinds = []string{"visit", "call", "meeting", "email", "event"}

const (
	akVisit = iota
	akCall
	akMeeting
	akEmail
	akEvent
)

var partnerKinds = []string{"agent", "distributor", "reseller"}

// nameVariant returns a variant of a customer name as a second registration
// would spell it (the collision model must see through it): another legal
// form, no legal form, full-width letters, spacing, case.
func nameVariant(name, city string, loc int, k int) string {
	v := nameVariant1(name, city, loc, k)
	for i := 1; v == name && i < 5; i++ {
		v = nameVariant1(name, city, loc, k+i)
	}
	return v
}

func nameVariant1(name, city string, loc int, k int) string {
	if loc == zh {
		switch k % 4 {
		case 0: // legal form differs
			switch {
			case strings.HasSuffix(name, "股份有限公司"):
				return strings.TrimSuffix(name, "股份有限公司") + "有限公司"
			case strings.HasSuffix(name, "集团有限公司"):
				return strings.TrimSuffix(name, "有限公司")
			}
			return strings.TrimSuffix(name, "有限公司") + "股份有限公司"
		case 1: // legal form missing
			for _, s := range []string{"股份有限公司", "集团有限公司", "有限公司"} {
				if strings.HasSuffix(name, s) {
					return strings.TrimSuffix(name, s)
				}
			}
			return name
		case 2: // full-width Latin letters, else a space after the city
			if fw := toFullWidth(name); fw != name {
				return fw
			}
			return city + " " + strings.TrimPrefix(name, city)
		default: // a space before the legal form
			for _, suf := range []string{"股份有限公司", "集团有限公司", "有限公司"} {
				if strings.HasSuffix(name, suf) {
					return strings.TrimSuffix(name, suf) + " " + suf
				}
			}
			return name
		}
	}
	switch k % 5 {
	case 0: // legal form spelled differently
		for _, f := range [][2]string{{"Group Co., Ltd.", "Group Co. Ltd"}, {"Corp., Ltd.", "Corporation Limited"}, {"Co., Ltd.", "Co. Ltd"}} {
			if strings.HasSuffix(name, f[0]) {
				return strings.TrimSuffix(name, f[0]) + f[1]
			}
		}
		return name
	case 1: // only "Ltd"
		for _, f := range []string{"Group Co., Ltd.", "Corp., Ltd.", "Co., Ltd."} {
			if strings.HasSuffix(name, f) {
				return strings.TrimSuffix(name, f) + "Ltd"
			}
		}
		return name
	case 2:
		return strings.ToUpper(name)
	case 3:
		if hasAcronym(name) {
			return toFullWidth(name)
		}
		return strings.Replace(name, " ", "  ", 1)
	default: // no space after the city, lower-case legal form
		s := city + strings.TrimPrefix(strings.TrimPrefix(name, city), " ")
		return strings.Replace(strings.Replace(s, "Co., Ltd.", "co., ltd.", 1), "Corp., Ltd.", "corp., ltd.", 1)
	}
}

func hasAcronym(s string) bool {
	for _, w := range strings.Fields(s) {
		if len(w) >= 3 && strings.ToUpper(w) == w && strings.Trim(w, acronymLetters) == "" {
			return true
		}
	}
	return false
}

// toFullWidth converts upper-case Latin acronyms of three or more letters to
// full-width forms (Ｂ Ｘ Ｋ).
func toFullWidth(s string) string {
	var b strings.Builder
	changed := false
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		j := i
		for j < len(runes) && runes[j] >= 'A' && runes[j] <= 'Z' {
			j++
		}
		if j-i >= 3 {
			for k := i; k < j; k++ {
				b.WriteRune(runes[k] - 'A' + 'Ａ')
			}
			changed = true
			i = j - 1
			continue
		}
		if j > i {
			for k := i; k < j; k++ {
				b.WriteRune(runes[k])
			}
			i = j - 1
			continue
		}
		b.WriteRune(runes[i])
	}
	if !changed {
		return s
	}
	return b.String()
}
