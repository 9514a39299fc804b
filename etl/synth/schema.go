package synth

import (
	"strings"

	"github.com/triscope/triscope/warehouse"
)

// column is one column of a generated file with the DuckDB type declared when
// the CSV is read back (parquet conversion, tests): the data contract's
// (warehouse.Contract), the one definition of the files' columns.
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

// entityNames are the contract's entities in the order of the indexes above.
var entityNames = [nEntities]string{
	eOrgUnits: "org_units", eReps: "reps", eProducts: "products", ePartners: "partners", eCampaigns: "campaigns",
	eStages: "stages", eFXRates: "fx_rates", eCustomers: "customers", eOpportunities: "opportunities",
	eOpportunityStages: "opportunity_stages", eContracts: "contracts", eContractLines: "contract_lines",
	ePaymentSchedule: "payment_schedule", ePayments: "payments", eExpenses: "expenses", eActivities: "activities",
	eTargets: "targets",
}

var entities = func() (out [nEntities]entitySpec) {
	for i, name := range entityNames {
		ce, ok := warehouse.EntityOf(name)
		if !ok {
			panic("synth: " + name + " is not an entity of the data contract")
		}
		out[i].name = name
		for _, c := range ce.Columns {
			out[i].cols = append(out[i].cols, column{c.Name, c.Type})
		}
	}
	return out
}()

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
