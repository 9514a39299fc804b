-- One ruling on a collision pair (models.RecordRuling).
INSERT INTO main.collision_rulings
    (opportunity_id, conflicts_with_opportunity_id, decision, winner_opportunity_id, winner_registrant, note, ruled_by, ruled_by_role, ruled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
