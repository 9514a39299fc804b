package flight

import (
	"encoding/json"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sqlInfo is what GetSqlInfo answers (JDBC reads it on connect).
func (s *Server) sqlInfo() map[uint32]any {
	version := s.opts.Version
	if version == "" {
		version = "dev"
	}
	return map[uint32]any{
		uint32(flightsql.SqlInfoFlightSqlServerName):         "Triscope",
		uint32(flightsql.SqlInfoFlightSqlServerVersion):      version,
		uint32(flightsql.SqlInfoFlightSqlServerArrowVersion): arrow.PkgVersion,
		uint32(flightsql.SqlInfoFlightSqlServerReadOnly):     true,
		uint32(flightsql.SqlInfoFlightSqlServerSql):          true,
		uint32(flightsql.SqlInfoFlightSqlServerSubstrait):    false,
		uint32(flightsql.SqlInfoFlightSqlServerTransaction):  int32(flightsql.SqlTransactionNone),
		uint32(flightsql.SqlInfoFlightSqlServerCancel):       false,
		uint32(flightsql.SqlInfoDDLCatalog):                  false,
		uint32(flightsql.SqlInfoDDLSchema):                   false,
		uint32(flightsql.SqlInfoDDLTable):                    false,
		uint32(flightsql.SqlInfoIdentifierCase):              int64(flightsql.SqlCaseSensitivityCaseInsensitive),
		uint32(flightsql.SqlInfoIdentifierQuoteChar):         `"`,
		uint32(flightsql.SqlInfoQuotedIdentifierCase):        int64(flightsql.SqlCaseSensitivityCaseInsensitive),
		uint32(flightsql.SqlInfoAllTablesAreASelectable):     true,
		uint32(flightsql.SqlInfoNullOrdering):                int64(flightsql.SqlNullOrderingSortAtEnd),
		uint32(flightsql.SqlInfoTransactionsSupported):       false,
		uint32(flightsql.SqlInfoSupportsColumnAliasing):      true,
		uint32(flightsql.SqlInfoKeywords): []string{"ANTI", "ASOF", "COLUMNS", "EXCLUDE", "FILTER", "GROUP", "ILIKE", "PIVOT",
			"POSITIONAL", "QUALIFY", "REPLACE", "SEMI", "SUMMARIZE", "UNPIVOT", "USING", "WINDOW"},
	}
}

// xdbcType is one row of GetXdbcTypeInfo: the types results have.
type xdbcType struct {
	Name      string   `json:"type_name"`
	DataType  int32    `json:"data_type"`
	Size      *int32   `json:"column_size"`
	Prefix    *string  `json:"literal_prefix"`
	Suffix    *string  `json:"literal_suffix"`
	Params    []string `json:"create_params"`
	Nullable  int32    `json:"nullable"`
	Case      bool     `json:"case_sensitive"`
	Search    int32    `json:"searchable"`
	Unsigned  *bool    `json:"unsigned_attribute"`
	Fixed     bool     `json:"fixed_prec_scale"`
	AutoInc   *bool    `json:"auto_increment"`
	Local     string   `json:"local_type_name"`
	MinScale  *int32   `json:"minimum_scale"`
	MaxScale  *int32   `json:"maximum_scale"`
	SQLType   int32    `json:"sql_data_type"`
	Subcode   *int32   `json:"datetime_subcode"`
	Radix     *int32   `json:"num_prec_radix"`
	IntervalP *int32   `json:"interval_precision"`
}

func i32(v int32) *int32   { return &v }
func str(v string) *string { return &v }
func boolp(v bool) *bool   { return &v }

// xdbcTypes are ordered by data type, as JDBC's getTypeInfo sorts them.
var xdbcTypes = func() []xdbcType {
	q := str("'")
	mk := func(name string, dt int32, size int32, quoted, numeric, fixed bool) xdbcType {
		t := xdbcType{Name: name, DataType: dt, Size: i32(size), Nullable: 1, Search: 3, Fixed: fixed, Local: name, SQLType: dt,
			Params: []string{}, AutoInc: boolp(false)}
		if quoted {
			t.Prefix, t.Suffix, t.Case = q, q, true
		}
		if numeric {
			t.Unsigned, t.Radix = boolp(false), i32(10)
		}
		return t
	}
	dec := mk("DECIMAL", 3, 38, false, true, true)
	dec.Params, dec.MinScale, dec.MaxScale = []string{"precision", "scale"}, i32(0), i32(38)
	return []xdbcType{
		mk("BIGINT", -5, 19, false, true, false),
		mk("BLOB", -3, 2147483647, true, false, false),
		mk("TINYINT", -6, 3, false, true, false),
		mk("BOOLEAN", 16, 1, false, false, false),
		dec,
		mk("INTEGER", 4, 10, false, true, false),
		mk("SMALLINT", 5, 5, false, true, false),
		mk("FLOAT", 6, 7, false, true, false),
		mk("DOUBLE", 8, 15, false, true, false),
		mk("VARCHAR", 12, 2147483647, true, false, false),
		mk("DATE", 91, 10, true, false, false),
		mk("TIME", 92, 15, true, false, false),
		mk("TIMESTAMP", 93, 26, true, false, false),
		mk("TIMESTAMP WITH TIME ZONE", 2014, 32, true, false, false),
	}
}()

// typeInfo answers GetXdbcTypeInfo (all types, or one data type).
func typeInfo(mem memory.Allocator, only *int32) (arrow.RecordBatch, error) {
	var rows []xdbcType
	for _, t := range xdbcTypes {
		if only == nil || t.DataType == *only {
			rows = append(rows, t)
		}
	}
	if rows == nil {
		rows = []xdbcType{}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	rec, _, err := array.RecordFromJSON(mem, schema_ref.XdbcTypeInfo, strings.NewReader(string(b)))
	return rec, err
}
