package reports

import "embed"

// DemoFS holds the demo's reports (demo/*.yaml): the weekly executive pack
// (PDF burst to the managers and the CEO), the month-end settlements
// (XLSX for finance) and the daily alert digest (to a WeCom group).
//
//go:embed demo/*.yaml
var DemoFS embed.FS
