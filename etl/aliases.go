package etl

import (
	"regexp"
	"slices"
	"strings"
)

// Built-in header aliases and value maps: the Chinese and English headers that
// CRM exports commonly use for each contract column, so that most files load
// without a mapping file. They are merged into the entity registry (Column.
// Aliases, Column.Values) at start-up; a mapping file adds to them.
//
// Aliases are compared in canonical form (canonHeader): NFKC, lower case,
// spaces, hyphens and dots as "_", a trailing required-marker "*" and a
// harmless unit such as (元) or (%) removed. So "Customer ID", "customer-id"
// and "CUSTOMER_ID" all match customer_id without being listed.

// sharedAliases apply to the column of that name in every entity that has it.
var sharedAliases = map[string][]string{
	"customer_id":       {"客户编号", "客户id", "客户代码", "客户编码", "客户号", "account_id", "customer_no", "customer_number", "customer_code", "cust_id"},
	"opportunity_id":    {"商机编号", "商机id", "商机代码", "商机编码", "机会编号", "销售机会编号", "opportunity_no", "opp_id", "deal_id"},
	"contract_id":       {"合同编号", "合同号", "合同id", "合同代码", "合同编码", "contract_no", "contract_number"},
	"product_id":        {"产品编号", "产品id", "产品代码", "产品编码", "物料编号", "sku", "product_code", "item_id"},
	"partner_id":        {"伙伴编号", "合作伙伴编号", "渠道编号", "渠道商编号", "代理商编号", "经销商编号", "partner_no", "channel_partner_id"},
	"campaign_id":       {"市场活动编号", "营销活动编号", "campaign_no"},
	"org_unit_id":       {"部门编号", "部门id", "组织编号", "机构编号", "组织id", "department_id", "dept_id", "org_id"},
	"rep_id":            {"销售编号", "销售id", "员工编号", "工号", "销售代表编号", "employee_id", "rep_no", "sales_rep_id"},
	"owner_rep_id":      {"负责人", "负责人编号", "负责人id", "销售代表", "归属销售", "客户经理", "业务员", "owner", "owner_id", "sales_rep", "account_owner_id", "opportunity_owner_id"},
	"currency":          {"币种", "货币", "币别", "币种代码", "currency_code"},
	"stage":             {"阶段", "销售阶段", "商机阶段", "阶段名称", "stage_name", "sales_stage"},
	"status":            {"状态"},
	"created_at":        {"创建时间", "创建日期", "建立时间", "录入时间", "created_date", "create_time", "created_time", "created_on", "creation_date"},
	"updated_at":        {"更新时间", "修改时间", "最后修改时间", "最后更新时间", "last_modified", "last_modified_date", "modified_at", "updated_time", "update_time"},
	"industry":          {"行业", "所属行业", "industry_name"},
	"city":              {"城市", "所在城市", "所在地"},
	"source":            {"来源", "线索来源", "lead_source"},
	"probability":       {"赢率", "成交概率", "赢单率", "赢单概率", "可能性", "win_probability", "probability_percent"},
	"expected_close_on": {"预计成交日期", "预计签约日期", "预计关闭日期", "预计结单日期", "预计成交时间", "expected_close_date"},
	"closed_on":         {"关闭日期", "结单日期", "成交日期", "赢单日期", "实际成交日期", "actual_close_date", "closed_date"},
	"close_reason":      {"关闭原因", "赢输原因", "输赢原因", "赢单原因", "输单原因", "原因", "win_loss_reason", "loss_reason"},
	"competitor":        {"竞争对手", "竞品", "主要竞争对手", "competitors"},
	"signed_on":         {"签订日期", "签约日期", "签署日期", "合同日期", "签订时间", "sign_date", "signed_date", "signing_date", "contract_date"},
	"paid_on":           {"回款日期", "付款日期", "收款日期", "到账日期", "回款时间", "payment_date", "paid_date", "pay_date"},
	"start_on":          {"开始日期", "生效日期", "起始日期", "start_date"},
	"end_on":            {"结束日期", "到期日期", "截止日期", "终止日期", "end_date"},
	"hired_on":          {"入职日期", "入职时间", "hire_date", "hired_date"},
	"left_on":           {"离职日期", "离职时间", "leave_date", "termination_date"},
	"manager_rep_id":    {"上级", "直属上级", "上级编号", "经理", "主管", "manager", "manager_id"},
	"parent_id":         {"上级部门", "上级部门编号", "上级组织", "上级机构", "上级编号", "parent", "parent_org_id"},
	"level":             {"层级", "级别", "组织级别", "org_level"},
	"size_band":         {"规模", "企业规模", "公司规模", "客户规模", "company_size"},
	"lifecycle_stage":   {"生命周期", "生命周期阶段", "客户阶段", "lifecycle"},
	"product_line":      {"产品线", "产品系列", "产品类别", "product_family"},
	"list_price":        {"标准价", "标准价格", "目录价", "牌价", "售价", "price"},
	"unit_cost":         {"成本", "单位成本", "成本价", "cost"},
	"line_no":           {"行号", "序号", "明细行号", "line", "line_number"},
	"quantity":          {"数量", "qty"},
	"unit_price":        {"单价", "成交单价", "成交价"},
	"due_on":            {"应收日期", "计划回款日期", "计划收款日期", "到期日", "计划日期", "due_date"},
	"payment_id":        {"回款编号", "回款单号", "收款编号", "收款单号", "付款编号", "流水号", "payment_no", "receipt_no"},
	"method":            {"付款方式", "回款方式", "收款方式", "结算方式", "支付方式", "payment_method"},
	"expense_id":        {"费用编号", "费用单号", "报销单号", "expense_no"},
	"incurred_on":       {"发生日期", "费用日期", "报销日期", "expense_date"},
	"category":          {"费用类别", "费用类型", "类别", "expense_type"},
	"activity_id":       {"跟进编号", "跟进记录编号", "拜访编号", "活动记录编号", "activity_no"},
	"occurred_at":       {"发生时间", "跟进时间", "拜访时间", "活动时间", "activity_date", "activity_time"},
	"channel":           {"渠道", "推广渠道", "投放渠道"},
	"started_on":        {"开始日期", "开始时间", "start_date"},
	"ended_on":          {"结束日期", "结束时间", "end_date"},
	"entered_at":        {"进入时间", "进入日期", "变更时间", "阶段变更时间", "changed_at", "stage_date"},
	"scope":             {"范围", "目标范围", "目标层级"},
	"scope_id":          {"范围编号", "对象编号", "目标对象", "目标对象编号"},
	"period_start":      {"开始日期", "期间开始", "起始日期", "period_from"},
	"period_end":        {"结束日期", "期间结束", "截止日期", "period_to"},
	"metric":            {"指标", "目标类型", "考核指标"},
	"rate_to_base":      {"汇率", "折算汇率", "rate", "exchange_rate"},
	"position":          {"顺序", "排序", "sort_order", "order"},
	"is_closed":         {"是否关闭", "已关闭", "closed"},
}

// entityAliases apply to one entity only: the same header means different
// columns in different exports (名称, 金额, 日期, 类型).
var entityAliases = map[string]map[string][]string{
	"stages":           {"default_probability": {"默认赢率", "赢率", "默认概率", "probability"}},
	"fx_rates":         {"on_date": {"on", "date", "rate_date", "日期", "汇率日期", "生效日期", "effective_date"}},
	"org_units":        {"org_unit_id": {"id", "编号"}, "name": {"名称", "部门名称", "组织名称", "机构名称", "org_name", "department_name"}},
	"reps":             {"rep_id": {"id", "编号"}, "name": {"姓名", "名称", "销售姓名", "员工姓名", "rep_name", "employee_name"}},
	"products":         {"product_id": {"id", "编号"}, "name": {"产品名称", "名称", "品名", "product_name"}},
	"partners":         {"partner_id": {"id", "编号"}, "name": {"伙伴名称", "合作伙伴名称", "渠道名称", "渠道商名称", "代理商名称", "经销商名称", "名称", "partner_name"}, "kind": {"类型", "伙伴类型", "渠道类型", "partner_type", "type"}},
	"campaigns":        {"campaign_id": {"id", "编号"}, "name": {"活动名称", "市场活动名称", "名称", "campaign_name"}, "cost": {"费用", "花费", "投入", "spend"}},
	"customers":        {"customer_id": {"id", "编号"}, "name": {"客户名称", "客户名", "名称", "公司名称", "企业名称", "account_name", "customer_name", "company_name"}, "source": {"客户来源"}},
	"opportunities":    {"opportunity_id": {"id", "编号"}, "amount": {"金额", "商机金额", "预计金额", "预估金额", "预计成交金额", "close_value", "deal_value", "expected_amount", "opportunity_amount"}, "status": {"商机状态", "赢单状态", "输赢状态"}, "source": {"商机来源"}},
	"contracts":        {"contract_id": {"id", "编号"}, "amount": {"金额", "合同金额", "合同总额", "签约金额", "contract_value", "contract_amount"}, "status": {"合同状态"}},
	"payments":         {"payment_id": {"id", "编号"}, "amount": {"金额", "回款金额", "收款金额", "付款金额", "到账金额", "payment_amount"}, "paid_on": {"日期"}},
	"expenses":         {"expense_id": {"id", "编号"}, "amount": {"金额", "费用金额", "报销金额", "expense_amount"}, "incurred_on": {"日期"}},
	"activities":       {"activity_id": {"id", "编号"}, "kind": {"类型", "活动类型", "跟进方式", "跟进类型", "activity_type", "type"}, "occurred_at": {"日期", "时间"}},
	"payment_schedule": {"amount": {"金额", "应收金额", "计划回款金额", "计划金额", "due_amount"}},
	"contract_lines":   {},
	"targets":          {"amount": {"金额", "目标金额", "目标", "target", "target_amount"}},
}

// builtinValues are value maps for enum columns: the Chinese and English words
// exports use, mapped to the contract's values. Keys are in normLower form.
var builtinValues = map[string]map[string]string{
	"opportunities.status": {
		"赢单": "won", "成交": "won", "已成交": "won", "赢": "won", "已赢单": "won", "签约": "won", "已签约": "won",
		"closed won": "won", "closed_won": "won", "closed-won": "won", "win": "won",
		"输单": "lost", "丢单": "lost", "失败": "lost", "输": "lost", "已输单": "lost", "已丢单": "lost",
		"closed lost": "lost", "closed_lost": "lost", "closed-lost": "lost", "loss": "lost",
		"进行中": "open", "跟进中": "open", "未关闭": "open", "开放": "open", "in progress": "open", "pending": "open",
	},
	"contracts.status": {
		"执行中": "active", "生效": "active", "已生效": "active", "有效": "active",
		"已完成": "completed", "完成": "completed", "履约完成": "completed", "已结束": "completed",
		"终止": "terminated", "已终止": "terminated", "提前终止": "terminated",
		"作废": "cancelled", "已作废": "cancelled", "取消": "cancelled", "已取消": "cancelled", "canceled": "cancelled",
	},
	"org_units.level": {"公司": "company", "总公司": "company", "总部": "company", "集团": "company", "大区": "region", "区域": "region",
		"分公司": "branch", "分部": "branch", "部门": "department", "小组": "department", "组": "department"},
	"partners.kind": {"代理商": "agent", "代理": "agent", "经销商": "distributor", "分销商": "distributor", "总代": "distributor",
		"转售商": "reseller", "渠道商": "reseller", "增值经销商": "reseller"},
	"activities.kind": {"拜访": "visit", "上门拜访": "visit", "电话": "call", "电话沟通": "call", "会议": "meeting", "会面": "meeting",
		"邮件": "email", "电子邮件": "email", "活动": "event", "展会": "event", "市场活动": "event"},
	"customers.size_band": {"微型": "micro", "小型": "small", "小微": "small", "中型": "medium", "大型": "large", "特大型": "enterprise", "集团": "enterprise", "超大型": "enterprise"},
	"customers.lifecycle_stage": {"目标客户": "target", "目标": "target", "潜在客户": "potential", "潜在": "potential", "商机": "opportunity",
		"成交客户": "transaction", "成交": "transaction", "已成交": "transaction", "服务": "service", "服务期": "service"},
	"targets.scope": {"公司": "company", "大区": "region", "区域": "region", "分公司": "branch", "部门": "department", "个人": "rep", "销售": "rep"},
	"targets.metric": {"签约": "bookings", "签约额": "bookings", "合同额": "bookings", "订单": "bookings", "业绩": "bookings",
		"回款": "collections", "回款额": "collections", "收款": "collections"},
}

// currencyWords map the currency names exports use to ISO codes.
var currencyWords = map[string]string{
	"rmb": "CNY", "人民币": "CNY", "元": "CNY", "¥": "CNY", "美元": "USD", "美金": "USD", "us$": "USD", "$": "USD",
	"港币": "HKD", "港元": "HKD", "hk$": "HKD", "欧元": "EUR", "€": "EUR", "日元": "JPY", "英镑": "GBP", "£": "GBP",
	"新台币": "TWD", "澳元": "AUD", "新加坡元": "SGD",
}

// sheetEntities map the sheet (or file) names exports use to entities.
var sheetEntities = map[string]string{
	"组织": "org_units", "组织架构": "org_units", "组织机构": "org_units", "部门": "org_units",
	"销售": "reps", "销售人员": "reps", "销售代表": "reps", "员工": "reps", "人员": "reps",
	"客户": "customers", "客户列表": "customers", "客户信息": "customers", "accounts": "customers",
	"商机": "opportunities", "销售机会": "opportunities", "机会": "opportunities", "deals": "opportunities",
	"商机阶段": "opportunity_stages", "阶段历史": "opportunity_stages", "阶段记录": "opportunity_stages",
	"合同": "contracts", "合同列表": "contracts", "合同明细": "contract_lines", "合同产品": "contract_lines",
	"回款计划": "payment_schedule", "收款计划": "payment_schedule",
	"回款": "payments", "回款记录": "payments", "收款": "payments", "收款记录": "payments", "回款明细": "payments",
	"产品": "products", "产品列表": "products", "渠道": "partners", "合作伙伴": "partners", "伙伴": "partners", "代理商": "partners",
	"费用": "expenses", "费用明细": "expenses", "跟进记录": "activities", "跟进": "activities", "拜访记录": "activities", "活动记录": "activities",
	"市场活动": "campaigns", "营销活动": "campaigns", "目标": "targets", "业绩目标": "targets", "销售目标": "targets",
	"汇率": "fx_rates", "阶段": "stages", "销售阶段": "stages",
}

var (
	headerSeps  = regexp.MustCompile(`[\s\-./]+`)
	headerUnits = regexp.MustCompile(`_?\((元|人民币|rmb|cny|¥|%|yyyy_mm_dd|yyyy-mm-dd)\)$`)
)

// canonHeader is the form in which header names and aliases are compared.
func canonHeader(h string) string {
	s := normLower(h)
	s = strings.TrimSpace(strings.TrimRight(s, "*"))
	s = headerUnits.ReplaceAllString(s, "")
	s = headerSeps.ReplaceAllString(strings.TrimSpace(s), "_")
	return strings.Trim(s, "_")
}

func init() {
	for _, e := range Entities {
		for i := range e.Columns {
			c := &e.Columns[i]
			add := slices.Concat(c.Aliases, sharedAliases[c.Name], entityAliases[e.Name][c.Name])
			var out []string
			for _, a := range add {
				if a = canonHeader(a); a != c.Name && !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
			c.Aliases = out
			if vm, ok := builtinValues[e.Name+"."+c.Name]; ok {
				c.Values = map[string]string{}
				for k, v := range vm {
					c.Values[normLower(k)] = v
				}
			}
		}
	}
}
