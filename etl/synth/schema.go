package synth

import "strings"

// column is one column of a generated file with the DuckDB type declared when
// the CSV is read back (parquet conversion, tests). It mirrors
// warehouse/migrations/0001_base_tables.sql without _load_id.
type column struct {
	name, typ string
}

type entitySpec struct {
	name string
	cols []column
}

// Entity indexes, in the order the files are listed in Result.Files.
const (
	eOrgUnits = iota
	eReps
	eProducts
	ePartners
	eCampaigns
	eStages
	eFXRates
	eCustomers
	eOpportunities
	eOpportunityStages
	eContracts
	eContractLines
	ePaymentSchedule
	ePayments
	eExpenses
	eActivities
	eTargets
	nEntities
)

const (
	tV  = "VARCHAR"
	tD  = "DATE"
	tTS = "TIMESTAMPTZ"
	tM  = "DECIMAL(18,2)"
	tP  = "DECIMAL(5,2)"
	tQ  = "DECIMAL(18,3)"
	tFX = "DECIMAL(18,8)"
	tI  = "INTEGER"
	tB  = "BOOLEAN"
)

var entities = [nEntities]entitySpec{
	eOrgUnits: {"org_units", []column{{"org_unit_id", tV}, {"parent_id", tV}, {"name", tV}, {"level", tV}}},
	eReps: {"reps", []column{{"rep_id", tV}, {"name", tV}, {"org_unit_id", tV}, {"manager_rep_id", tV},
		{"hired_on", tD}, {"left_on", tD}}},
	eProducts: {"products", []column{{"product_id", tV}, {"name", tV}, {"product_line", tV},
		{"list_price", tM}, {"unit_cost", tM}}},
	ePartners: {"partners", []column{{"partner_id", tV}, {"name", tV}, {"kind", tV}, {"org_unit_id", tV}}},
	eCampaigns: {"campaigns", []column{{"campaign_id", tV}, {"name", tV}, {"channel", tV},
		{"started_on", tD}, {"ended_on", tD}, {"cost", tM}}},
	eStages:  {"stages", []column{{"stage", tV}, {"position", tI}, {"default_probability", tP}, {"is_closed", tB}}},
	eFXRates: {"fx_rates", []column{{"currency", tV}, {"on_date", tD}, {"rate_to_base", tFX}}},
	eCustomers: {"customers", []column{{"customer_id", tV}, {"name", tV}, {"industry", tV}, {"size_band", tV},
		{"org_unit_id", tV}, {"city", tV}, {"created_at", tTS}, {"owner_rep_id", tV}, {"source", tV},
		{"lifecycle_stage", tV}}},
	eOpportunities: {"opportunities", []column{{"opportunity_id", tV}, {"customer_id", tV}, {"owner_rep_id", tV},
		{"partner_id", tV}, {"product_id", tV}, {"amount", tM}, {"currency", tV}, {"stage", tV},
		{"probability", tP}, {"source", tV}, {"campaign_id", tV}, {"created_at", tTS},
		{"expected_close_on", tD}, {"closed_on", tD}, {"status", tV}, {"close_reason", tV},
		{"competitor", tV}, {"updated_at", tTS}}},
	eOpportunityStages: {"opportunity_stages", []column{{"opportunity_id", tV}, {"stage", tV}, {"entered_at", tTS}}},
	eContracts: {"contracts", []column{{"contract_id", tV}, {"opportunity_id", tV}, {"customer_id", tV},
		{"owner_rep_id", tV}, {"signed_on", tD}, {"start_on", tD}, {"end_on", tD}, {"amount", tM},
		{"currency", tV}, {"status", tV}}},
	eContractLines: {"contract_lines", []column{{"contract_id", tV}, {"line_no", tI}, {"product_id", tV},
		{"quantity", tQ}, {"unit_price", tM}}},
	ePaymentSchedule: {"payment_schedule", []column{{"contract_id", tV}, {"due_on", tD}, {"amount", tM}}},
	ePayments: {"payments", []column{{"payment_id", tV}, {"contract_id", tV}, {"customer_id", tV},
		{"paid_on", tD}, {"amount", tM}, {"currency", tV}, {"method", tV}}},
	eExpenses: {"expenses", []column{{"expense_id", tV}, {"customer_id", tV}, {"opportunity_id", tV},
		{"contract_id", tV}, {"incurred_on", tD}, {"amount", tM}, {"currency", tV}, {"category", tV}}},
	eActivities: {"activities", []column{{"activity_id", tV}, {"customer_id", tV}, {"opportunity_id", tV},
		{"rep_id", tV}, {"kind", tV}, {"occurred_at", tTS}, {"campaign_id", tV}}},
	eTargets: {"targets", []column{{"scope", tV}, {"scope_id", tV}, {"period_start", tD}, {"period_end", tD},
		{"metric", tV}, {"amount", tM}}},
}

func (e *entitySpec) header() []string {
	h := make([]string, len(e.cols))
	for i, c := range e.cols {
		h[i] = c.name
	}
	return h
}

// duckColumns renders the columns={...} argument of DuckDB's read_csv.
func (e *entitySpec) duckColumns() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range e.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + c.name + "': '" + c.typ + "'")
	}
	b.WriteByte('}')
	return b.String()
}
