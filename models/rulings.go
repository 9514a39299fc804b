package models

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"time"
)

//go:embed sql/collision_ruling.sql
var collisionRulingSQL string

// Ruling is a decision on a collision (撞单) pair of mart_collisions, kept in
// collision_rulings (migration 0005): every ruling stays, the latest per pair
// stands.
type Ruling struct {
	OpportunityID, ConflictsWith string // the later and the earlier deal of the pair
	Decision                     string // first (the first registrant keeps it) or other
	WinnerOpportunityID          string
	WinnerRegistrant             string // rep:<id> or partner:<id>
	Note                         string
	By, ByRole                   string // dashboard username and role
	At                           time.Time
}

// RecordRuling inserts a ruling on conn (inside the caller's transaction).
func RecordRuling(ctx context.Context, conn *sql.Conn, r Ruling) error {
	var note any
	if r.Note != "" {
		note = r.Note
	}
	if _, err := conn.ExecContext(ctx, collisionRulingSQL, r.OpportunityID, r.ConflictsWith, r.Decision,
		r.WinnerOpportunityID, r.WinnerRegistrant, note, r.By, r.ByRole, r.At); err != nil {
		return fmt.Errorf("recording the ruling on %s / %s: %w", r.OpportunityID, r.ConflictsWith, err)
	}
	return nil
}
