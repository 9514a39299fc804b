package dashboards

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/triscope/triscope/etl"
)

// LoadRequest asks the server, which owns the warehouse file, to load files
// that are on its machine: `triscope load` sends it when a server runs.
type LoadRequest struct {
	Paths          []string `json:"paths"` // absolute paths on the server's machine
	Entity         string   `json:"entity,omitempty"`
	Mapping        string   `json:"mapping,omitempty"` // absolute path of a mapping file
	Encoding       string   `json:"encoding,omitempty"`
	Source         string   `json:"source,omitempty"`
	Snapshot       []string `json:"snapshot,omitempty"`
	Force          bool     `json:"force,omitempty"`
	DryRun         bool     `json:"dry_run,omitempty"`
	MaxRejectShare float64  `json:"max_reject_share,omitempty"`
}

// LoadResponse is the load's report and, when it failed, why.
type LoadResponse struct {
	Report *etl.Report `json:"report"`
	Error  string      `json:"error,omitempty"`
}

// loadPath is the endpoint `triscope load` uses while a server runs.
const loadPath = "/api/load"

// loadAPI runs a load inside the server: through the warehouse's write lane,
// committed atomically, while readers keep reading the previous state. It is
// authenticated by the load token the server wrote into its server file
// (readable only by the user running it), not by a session: it ignores
// cookies, so it cannot be driven from a browser (and needs no CSRF token).
func (s *Server) loadAPI(c *echo.Context) error {
	token := strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if s.opts.LoadToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.LoadToken)) != 1 {
		s.audit(c, "", "load_refused", map[string]any{"reason": "bad load token"})
		return echo.NewHTTPError(http.StatusUnauthorized, "a load needs the token in the server file beside the warehouse")
	}
	var req LoadRequest
	if err := c.Bind(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "a load request is JSON: "+err.Error())
	}
	if len(req.Paths) == 0 && req.Source == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "give paths to load, or a source")
	}
	opts := etl.Options{Entity: req.Entity, Encoding: req.Encoding, Source: req.Source, Snapshot: req.Snapshot,
		Force: req.Force, DryRun: req.DryRun, MaxRejectShare: req.MaxRejectShare,
		BaseCurrency: s.opts.BaseCurrency, Logger: s.log}
	if req.Mapping != "" {
		m, err := etl.LoadMapping(req.Mapping)
		if err != nil {
			return c.JSON(http.StatusOK, LoadResponse{Error: err.Error()})
		}
		opts.Mapping = m
	}
	rep, err := etl.Load(c.Request().Context(), s.opts.Warehouse, req.Paths, opts)
	resp := LoadResponse{Report: rep}
	detail := map[string]any{"paths": req.Paths}
	if rep != nil {
		detail["status"], detail["load_id"] = rep.Status, rep.LoadID
	}
	if err != nil {
		resp.Error = err.Error()
		detail["error"] = err.Error()
	}
	s.audit(c, "", "load", detail)
	// Charts are cached per data version: the next request after a committed
	// load sees the new max(load_id) and recomputes.
	return c.JSON(http.StatusOK, resp)
}
