package models

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// local_day (prep.sql) is CAST(ts AS DATE) in every time zone: by integer
// arithmetic where the zone's offset is constant over the span of the data
// (checked: the fast path is taken), by the cast elsewhere. Instants every
// 7 h 13 min 17 s from 1960 to 2100 and one microsecond either side of every
// local midnight of the span are compared.
func TestLocalDayIsTheCast(t *testing.T) {
	ctx := context.Background()
	w := plWarehouse(t, "testdata/funnel") // history and deals from January to April 2024
	asOf := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		zone   string
		offset sql.NullInt64 // the fast path's offset in µs; NULL: cast every instant
	}{
		{"Asia/Shanghai", sql.NullInt64{Int64: 8 * 3600e6, Valid: true}},
		{"Asia/Kolkata", sql.NullInt64{Int64: 5.5 * 3600e6, Valid: true}},
		{"UTC", sql.NullInt64{Int64: 0, Valid: true}},
		{"America/Sao_Paulo", sql.NullInt64{Int64: -3 * 3600e6, Valid: true}}, // no daylight saving time since 2019
		{"America/New_York", sql.NullInt64{}},                                 // summer time from 10 March 2024
	} {
		err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
			defer conn.ExecContext(context.WithoutCancel(ctx), "RESET TimeZone")
			if _, err := conn.ExecContext(ctx, "SET TimeZone = '"+c.zone+"'"); err != nil {
				return err
			}
			if _, err := plTestPrep(ctx, conn, asOf); err != nil {
				return err
			}
			var offset sql.NullInt64
			if err := conn.QueryRowContext(ctx, "SELECT getvariable('utc_offset_us')").Scan(&offset); err != nil {
				return err
			}
			if offset != c.offset {
				t.Errorf("%s: utc_offset_us %v, want %v", c.zone, offset, c.offset)
			}
			var instants, wrong int
			err := conn.QueryRowContext(ctx, `
				WITH instants AS (
				    SELECT ts FROM generate_series(TIMESTAMPTZ '1960-01-01 00:00:00+00', TIMESTAMPTZ '2100-01-01 00:00:00+00',
				                                   INTERVAL '7 hours 13 minutes 17 seconds') g(ts)
				    UNION ALL
				    SELECT CAST(m AS TIMESTAMPTZ) + to_microseconds(k)
				    FROM generate_series(TIMESTAMP '2023-12-25', TIMESTAMP '2025-01-05', INTERVAL 1 DAY) g(m), range(-1, 2) r(k)
				)
				SELECT count(*), count(*) FILTER (WHERE local_day(ts) IS DISTINCT FROM CAST(ts AS DATE)) FROM instants`).Scan(&instants, &wrong)
			if err != nil {
				return err
			}
			if wrong != 0 || instants < 170000 {
				t.Errorf("%s: local_day differs from the cast on %d of %d instants", c.zone, wrong, instants)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.zone, err)
		}
	}
}
