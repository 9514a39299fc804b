package render

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetBatchRows is the number of rows in each record batch, and so in
// each row group, of a Parquet file.
const ParquetBatchRows = 128 << 10

// parquetType is the Arrow (and so Parquet) type of a kind:
//
//	text     STRING (UTF8)
//	number   DOUBLE
//	integer  INT64
//	money    DECIMAL(18,2), stored as INT64: amounts are DECIMAL(18,2) in the
//	         warehouse, and a feed must add up to the cent as the source does
//	         (a DOUBLE turns 0.1 + 0.2 into 0.30000000000000004 and rounds
//	         amounts above 2^53 cents); DuckDB, Spark, pandas and Power BI read it
//	percent  DOUBLE (a fraction)
//	date     DATE
//	time     TIMESTAMP(MICROS, isAdjustedToUTC) — TIMESTAMPTZ in DuckDB
//	bool     BOOLEAN
func parquetType(k Kind) arrow.DataType {
	switch k {
	case Number, Percent:
		return arrow.PrimitiveTypes.Float64
	case Integer:
		return arrow.PrimitiveTypes.Int64
	case Money:
		return &arrow.Decimal128Type{Precision: 18, Scale: 2}
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Time:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// WriteParquet writes a table as Parquet (snappy), one row group per
// ParquetBatchRows rows, streaming: memory holds one batch, whatever the
// number of rows. Fields are the columns' names, with their label and kind
// as field metadata; every field is nullable. A value that does not fit its
// column's kind is an error naming the row and column (only text takes
// anything). It returns the number of rows written.
func WriteParquet(w io.Writer, t *Table, o Options) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	fields := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: parquetType(c.kind()), Nullable: true,
			Metadata: arrow.NewMetadata([]string{"label", "kind"}, []string{c.header(), string(c.kind())})}
	}
	schema := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(ParquetBatchRows),
		parquet.WithCreatedBy("triscope"),
	)
	mem := memory.NewGoAllocator()
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		return 0, err
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var n int64
	inBatch := 0
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		inBatch = 0
		return fw.Write(rec)
	}
	for t.Rows.Next() {
		vals := t.Rows.Values()
		if len(vals) != len(t.Columns) {
			fw.Close()
			return n, rowError(t, n+1, 0, errWidth(len(vals), len(t.Columns)))
		}
		for i, v := range vals {
			if err := appendValue(b.Field(i), t.Columns[i].kind(), v); err != nil {
				fw.Close()
				return n, rowError(t, n+1, i, err)
			}
		}
		n++
		if inBatch++; inBatch == ParquetBatchRows {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := t.Rows.Err(); err != nil {
		fw.Close()
		return n, err
	}
	if inBatch > 0 || n == 0 {
		if err := flush(); err != nil {
			return n, err
		}
	}
	return n, fw.Close()
}

func appendValue(b array.Builder, k Kind, v any) error {
	if blank(v) {
		b.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("%v (%T) is not a %s value", v, v, k) }
	switch k {
	case Text:
		b.(*array.StringBuilder).Append(toText(v))
	case Number, Percent:
		n, ok := toNum(v)
		if !ok {
			return bad()
		}
		b.(*array.Float64Builder).Append(n.f)
	case Integer:
		n, ok := toNum(v)
		if !ok {
			return bad()
		}
		i, ok := n.integral()
		if !ok {
			return fmt.Errorf("%v is not a whole number", v)
		}
		b.(*array.Int64Builder).Append(i)
	case Money:
		n, ok := toNum(v)
		if !ok {
			return bad()
		}
		c, ok := n.cents()
		if !ok || c >= 1e18 || c <= -1e18 {
			return fmt.Errorf("%v does not fit DECIMAL(18,2)", v)
		}
		b.(*array.Decimal128Builder).Append(decimal128.FromI64(c))
	case Date:
		d, ok := toDate(v)
		if !ok {
			return bad()
		}
		b.(*array.Date32Builder).Append(arrow.Date32FromTime(d))
	case Time:
		t, ok := toInstant(v)
		if !ok {
			return bad()
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
	case Bool:
		x, ok := toBool(v)
		if !ok {
			return bad()
		}
		b.(*array.BooleanBuilder).Append(x)
	}
	return nil
}
