package flight

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/triscope/triscope/query/adhoc"
)

// The worker sends rows as JSON values in batches (query/adhoc); this file
// turns them into Arrow record batches. (Arrow straight from DuckDB would
// need the duckdb_arrow build tag for the whole binary and its reader in
// the worker process; the worker's JSON batches keep one protocol for every
// front end, and the conversion is measured in the benchmark.)

var decimalRE = regexp.MustCompile(`^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$`)

// arrowType maps a DuckDB type name to the Arrow type of its column.
func arrowType(duck, tz string) arrow.DataType {
	t := strings.ToUpper(strings.TrimSpace(duck))
	if m := decimalRE.FindStringSubmatch(t); m != nil {
		p, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}
	}
	switch t {
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case "TINYINT":
		return arrow.PrimitiveTypes.Int8
	case "SMALLINT":
		return arrow.PrimitiveTypes.Int16
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64
	case "UTINYINT":
		return arrow.PrimitiveTypes.Uint8
	case "USMALLINT":
		return arrow.PrimitiveTypes.Uint16
	case "UINTEGER":
		return arrow.PrimitiveTypes.Uint32
	case "UBIGINT":
		return arrow.PrimitiveTypes.Uint64
	case "HUGEINT", "UHUGEINT":
		// As DuckDB's own Arrow export does: a value of 39 digits fails
		// the stream with a clear error (cast it to DOUBLE or VARCHAR).
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}
	case "FLOAT", "REAL":
		return arrow.PrimitiveTypes.Float32
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64
	case "DATE":
		return arrow.FixedWidthTypes.Date32
	case "TIME":
		return arrow.FixedWidthTypes.Time64us
	case "TIMESTAMP", "TIMESTAMP_US", "DATETIME":
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: tz}
	case "BLOB":
		return arrow.BinaryTypes.Binary
	}
	return arrow.BinaryTypes.String
}

// Schema is the Arrow schema of a result's columns.
func Schema(cols []adhoc.Column, tz string) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type, tz), Nullable: true,
			Metadata: arrow.NewMetadata([]string{"duckdb_type"}, []string{c.Type})}
	}
	return arrow.NewSchema(fields, nil)
}

// batcher accumulates rows into record batches of at most maxRows rows or
// about maxBytes bytes.
type batcher struct {
	schema   *arrow.Schema
	b        *array.RecordBuilder
	loc      *time.Location
	rows     int
	bytes    int
	maxRows  int
	maxBytes int
}

func newBatcher(mem memory.Allocator, schema *arrow.Schema, loc *time.Location) *batcher {
	return &batcher{schema: schema, b: array.NewRecordBuilder(mem, schema), loc: loc, maxRows: 64 << 10, maxBytes: 2 << 20}
}

func (bt *batcher) release() { bt.b.Release() }

// add appends rows; full reports whether a batch should be flushed.
func (bt *batcher) add(row []any) error {
	if len(row) != len(bt.schema.Fields()) {
		return fmt.Errorf("row of %d values for %d columns", len(row), len(bt.schema.Fields()))
	}
	for i, v := range row {
		n, err := appendValue(bt.b.Field(i), v, bt.loc)
		if err != nil {
			return fmt.Errorf("column %s: %w", bt.schema.Field(i).Name, err)
		}
		bt.bytes += n
	}
	bt.rows++
	return nil
}

func (bt *batcher) full() bool { return bt.rows >= bt.maxRows || bt.bytes >= bt.maxBytes }

// flush returns the batch built so far (nil when empty).
func (bt *batcher) flush() arrow.RecordBatch {
	if bt.rows == 0 {
		return nil
	}
	bt.rows, bt.bytes = 0, 0
	return bt.b.NewRecordBatch()
}

// appendValue appends one JSON value of the worker to a builder and
// returns about how many bytes it takes.
func appendValue(b array.Builder, v any, loc *time.Location) (int, error) {
	if v == nil {
		b.AppendNull()
		return 1, nil
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		s := textOf(v)
		bb.Append(s)
		return len(s) + 4, nil
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return 0, fmt.Errorf("want a boolean, got %T", v)
		}
		bb.Append(x)
		return 1, nil
	case *array.Int8Builder:
		i, err := intOf(v)
		bb.Append(int8(i))
		return 1, err
	case *array.Int16Builder:
		i, err := intOf(v)
		bb.Append(int16(i))
		return 2, err
	case *array.Int32Builder:
		i, err := intOf(v)
		bb.Append(int32(i))
		return 4, err
	case *array.Int64Builder:
		i, err := intOf(v)
		bb.Append(i)
		return 8, err
	case *array.Uint8Builder:
		u, err := uintOf(v)
		bb.Append(uint8(u))
		return 1, err
	case *array.Uint16Builder:
		u, err := uintOf(v)
		bb.Append(uint16(u))
		return 2, err
	case *array.Uint32Builder:
		u, err := uintOf(v)
		bb.Append(uint32(u))
		return 4, err
	case *array.Uint64Builder:
		u, err := uintOf(v)
		bb.Append(u)
		return 8, err
	case *array.Float32Builder:
		f, err := floatOf(v)
		bb.Append(float32(f))
		return 4, err
	case *array.Float64Builder:
		f, err := floatOf(v)
		bb.Append(f)
		return 8, err
	case *array.Decimal128Builder:
		dt := bb.Type().(*arrow.Decimal128Type)
		d, err := decimal128.FromString(textOf(v), dt.Precision, dt.Scale)
		if err != nil {
			return 0, err
		}
		bb.Append(d)
		return 16, nil
	case *array.Date32Builder:
		d, err := time.Parse(time.DateOnly, textOf(v))
		if err != nil {
			return 0, err
		}
		bb.Append(arrow.Date32FromTime(d))
		return 4, nil
	case *array.Time64Builder:
		t, err := time.Parse("15:04:05.999999", textOf(v))
		if err != nil {
			return 0, err
		}
		bb.Append(arrow.Time64(int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000)))
		return 8, nil
	case *array.TimestampBuilder:
		s := textOf(v)
		var t time.Time
		var err error
		if bb.Type().(*arrow.TimestampType).TimeZone != "" {
			t, err = time.Parse(time.RFC3339Nano, s)
		} else {
			t, err = time.Parse("2006-01-02 15:04:05.999999", s)
		}
		if err != nil {
			return 0, err
		}
		bb.Append(arrow.Timestamp(t.UnixMicro()))
		return 8, nil
	case *array.BinaryBuilder:
		s := textOf(v)
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			raw = []byte(s)
		}
		bb.Append(raw)
		return len(raw) + 4, nil
	}
	return 0, fmt.Errorf("no conversion to %s", b.Type())
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func intOf(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case float64:
		return int64(x), nil
	case int64:
		return x, nil
	}
	return strconv.ParseInt(textOf(v), 10, 64)
}

func uintOf(v any) (uint64, error) { return strconv.ParseUint(textOf(v), 10, 64) }

func floatOf(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case float64:
		return x, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return strconv.ParseFloat(textOf(v), 64)
}
