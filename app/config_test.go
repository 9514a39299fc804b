package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// holidays_file is checked when the configuration is read (an error names
// the file and the line) and reaches the targets model's settings.
func TestConfigHolidaysFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n")
	good := write("good.csv", "date,kind,name\n2027-01-01,holiday,元旦\n")
	var c Config
	err := c.Load(write("bad.yaml", "holidays_file: "+bad+"\n"), pflag.NewFlagSet("x", pflag.ContinueOnError))
	if err == nil || !strings.Contains(err.Error(), "bad.csv:3:") || !strings.Contains(err.Error(), "holidays_file") {
		t.Errorf("a bad holiday file: %v", err)
	}
	c = Config{}
	if err := c.Load(write("good.yaml", "holidays_file: "+good+"\nmodels:\n  targets: {rule: equal}\n"), pflag.NewFlagSet("x", pflag.ContinueOnError)); err != nil {
		t.Fatal(err)
	}
	if s := c.Sub("models.targets"); s["holidays_file"] != good || s["rule"] != "equal" {
		t.Errorf("models.targets settings %v: want holidays_file %s beside rule", s, good)
	}
	c = Config{}
	if err := c.Load(write("none.yaml", "db: x.duckdb\n"), pflag.NewFlagSet("x", pflag.ContinueOnError)); err != nil || c.HolidaysFile != "" {
		t.Errorf("no holiday file: %v %q", err, c.HolidaysFile)
	}
}

// Alert thresholds are checked when the configuration is read.
func TestConfigAlertSettings(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		"models:\n  alerts: {due_days: 14, severities: {contract_ending: medium}}\n": "",
		"models:\n  alerts: {due_days: -3}\n":                                        "models.alerts.due_days",
		"models:\n  alerts: {severities: {contract_ending: urgent}}\n":               "models.alerts.severities.contract_ending",
	} {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		var c Config
		err := c.Load(p, pflag.NewFlagSet("x", pflag.ContinueOnError))
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}
