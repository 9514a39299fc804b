package reports_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triscope/triscope/query/adhoc"
	"github.com/triscope/triscope/reports/schedule"
)

// A saved query of the SQL face as report content: run as each recipient
// through the sandbox, with their scope, the report's period as its $from
// and $to; each rep's copy holds exactly the payments the dashboards show
// that rep; a recipient it is not shared with gets no copy, and the
// history says why.
func TestSavedQueryAsEachRecipient(t *testing.T) {
	setup(t)
	ctx := context.Background()
	store, err := adhoc.OpenStore(ctx, env.rt.Access())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, adhoc.Saved{Owner: "admin", Name: "rep-payments", SharedRole: "rep",
		SQL:    "SELECT payment_id, paid_on, amount_base FROM collections WHERE paid_on BETWEEN $from AND $to ORDER BY payment_id",
		Params: []adhoc.Param{{Name: "from", Type: "date"}, {Name: "to", Type: "date"}}}); err != nil {
		t.Fatal(err)
	}
	info, err := env.rt.ReportSend(ctx, "saved-query", "test")
	if err == nil || info == nil || info.Status != schedule.StatusFailed {
		t.Fatalf("the run should fail for the manager only: %v %+v", err, info)
	}
	status := map[string]string{}
	for _, rc := range info.Recipients {
		status[rc.Key] = rc.Status + " " + rc.Note
	}
	if !strings.HasPrefix(status["east"], "failed") || !strings.Contains(status["east"], "not shared with you") {
		t.Errorf("the manager: %q", status["east"])
	}
	for _, user := range []string{"rep", "other"} {
		if !strings.HasPrefix(status[user], "delivered") {
			t.Errorf("%s: %q", user, status[user])
			continue
		}
		files, _ := filepath.Glob(filepath.Join(env.dir, "archive", "saved-query", "*", user, "*.csv"))
		if len(files) != 1 {
			t.Fatalf("%s: archived %v", user, files)
		}
		b, _ := os.ReadFile(files[0])
		got := readCSV(t, b)
		_, body := login(t, user).get("/api/charts/telescope.collections/export?format=csv&period=ytd&lang=en")
		want := readCSV(t, []byte(body))
		keys := map[string]bool{}
		for _, r := range want[1:] {
			keys[r[0]] = true
		}
		if len(got)-1 != len(keys) || len(keys) == 0 {
			t.Errorf("%s: %d rows from the saved query, the dashboards show %d", user, len(got)-1, len(keys))
		}
		for _, r := range got[1:] {
			if !keys[r[0]] {
				t.Errorf("%s: payment %s is not on the dashboards for them", user, r[0])
			}
		}
	}
}
