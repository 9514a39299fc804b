package synth

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// paymentsColumns are the columns of the demo's payments.csv, in order.
var paymentsColumns = []string{"payment_id", "contract_id", "customer_id", "paid_on", "amount", "currency", "method"}

// PaymentsHeadersZH are the headers a Chinese CRM's payments export uses for
// paymentsColumns (the loader's aliases read them).
var PaymentsHeadersZH = []string{"回款编号", "合同编号", "客户编号", "回款日期", "金额", "币种", "付款方式"}

// WritePaymentsWorkbook writes a payments CSV with the demo's columns as a
// Chinese CRM's XLSX export delivers it: one sheet 回款, Chinese headers,
// paid_on as date cells (serial numbers), amount as number cells, each
// method through method (nil: as it is). bench-load's XLSX variant and the
// test that a workbook loads as its CSV both use it.
func WritePaymentsWorkbook(csvPath, xlsxPath string, method func(string) string) error {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "回款")
	sw, err := f.NewStreamWriter("回款")
	if err != nil {
		return err
	}
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	moneyStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 4})
	headers := make([]any, len(PaymentsHeadersZH))
	for i, h := range PaymentsHeadersZH {
		headers[i] = h
	}
	if err := sw.SetRow("A1", headers); err != nil {
		return err
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	err = readPayments(csvPath, func(line int, rec []string) error {
		day, err := time.Parse("2006-01-02", rec[3])
		if err != nil {
			return fmt.Errorf("%s line %d: paid_on %q: %w", csvPath, line, rec[3], err)
		}
		amount, err := strconv.ParseFloat(rec[4], 64)
		if err != nil {
			return fmt.Errorf("%s line %d: amount %q: %w", csvPath, line, rec[4], err)
		}
		cell, _ := excelize.CoordinatesToCellName(1, line)
		return sw.SetRow(cell, []any{rec[0], rec[1], rec[2],
			excelize.Cell{StyleID: dateStyle, Value: day.Sub(epoch).Hours() / 24},
			excelize.Cell{StyleID: moneyStyle, Value: amount}, rec[5], applyMethod(method, rec[6])})
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(xlsxPath), 0o755); err != nil {
		return err
	}
	return f.SaveAs(xlsxPath)
}

// WritePaymentsGBK writes a payments CSV with the demo's columns as a Chinese
// CRM's CSV export delivers it: GBK, Chinese headers, each method through
// method (nil: as it is).
func WritePaymentsGBK(csvPath, gbkPath string, method func(string) string) error {
	if err := os.MkdirAll(filepath.Dir(gbkPath), 0o755); err != nil {
		return err
	}
	gf, err := os.Create(gbkPath)
	if err != nil {
		return err
	}
	defer gf.Close()
	gw := bufio.NewWriterSize(transform.NewWriter(gf, simplifiedchinese.GBK.NewEncoder()), 1<<20)
	cw := csv.NewWriter(gw)
	cw.Write(PaymentsHeadersZH)
	out := make([]string, len(paymentsColumns))
	err = readPayments(csvPath, func(_ int, rec []string) error {
		copy(out, rec)
		out[6] = applyMethod(method, rec[6])
		return cw.Write(out)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := gw.Flush(); err != nil {
		return err
	}
	return gf.Close()
}

// readPayments calls fn for every record of a payments CSV with the demo's
// columns (line: its line in the file), after checking the header.
func readPayments(csvPath string, fn func(line int, rec []string) error) error {
	in, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer in.Close()
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", csvPath, err)
	}
	if strings.Join(header, ",") != strings.Join(paymentsColumns, ",") {
		return fmt.Errorf("%s: header %v, want %v", csvPath, header, paymentsColumns)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", csvPath, err)
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

func applyMethod(method func(string) string, m string) string {
	if method == nil {
		return m
	}
	return method(m)
}
