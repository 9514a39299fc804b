package models

import (
	"slices"
	"testing"
)

// The run order follows from what each model reads: every model runs after
// the models whose tables it reads (All panics on a cycle or an unmade mart).
func TestModelOrder(t *testing.T) {
	order := Names()
	if len(order) != len(registry) {
		t.Fatalf("All lists %d models, %d are registered", len(order), len(registry))
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	maker := map[string]string{}
	for _, m := range registry {
		for _, tb := range m.Tables {
			maker[tb] = m.Name
		}
	}
	for _, m := range registry {
		for _, r := range m.Reads {
			if d, ok := maker[r]; ok && d != m.Name && pos[d] > pos[m.Name] {
				t.Errorf("%s reads %s of %s but runs before it", m.Name, r, d)
			}
		}
	}
	// The dependencies the models have today.
	for _, dep := range [][2]string{{"clv", "customer_value"}, {"rfm", "customer_value"}, {"contract_execution", "customer_value"},
		{"forecast", "alerts"}, {"targets", "alerts"}} {
		if pos[dep[0]] > pos[dep[1]] {
			t.Errorf("%s must run before %s: order %v", dep[0], dep[1], order)
		}
	}
}

func TestAffected(t *testing.T) {
	got := Affected([]string{"payments"})
	for _, want := range []string{"rfm", "clv", "customer_value", "contract_execution", "alerts", "targets"} {
		if !slices.Contains(got, want) {
			t.Errorf("a payments load affects %s; Affected = %v", want, got)
		}
	}
	// A model reading only what a campaigns load cannot touch is not affected,
	// but one reading a table of an affected model is.
	got = Affected([]string{"campaigns"})
	if slices.Contains(got, "rfm") || slices.Contains(got, "clv") {
		t.Errorf("a campaigns load does not affect rfm or clv: %v", got)
	}
	if !slices.Contains(got, "funnel") || !slices.Contains(got, "customer_value") {
		t.Errorf("a campaigns load affects funnel and customer_value: %v", got)
	}
	if !slices.Contains(Affected([]string{"mart_forecast"}), "alerts") {
		t.Error("alerts read mart_forecast")
	}
}
