package charts

import "github.com/triscope/triscope/query"

// Pages of part 2, in the nav bar already so the product's shape is visible.
// Each shows a "being built" notice (no numbers). A real page registered with
// the same ID (query.RegisterPage, in its own file) replaces its placeholder.
func init() {
	for i, p := range []struct{ id, path string }{
		{"microscope", "/microscope"},
		{"funnel", "/funnel"},
		{"customers", "/customers"},
		{"collections", "/collections"},
		{"alerts", "/alerts"},
		{"collisions", "/collisions"},
	} {
		query.RegisterPage(&query.Page{ID: p.id, Path: p.path, Title: "page." + p.id, Nav: 3 + i, Placeholder: true})
	}
}
