-- 0005: rulings on collisions (撞单). Written by the dashboards (/collisions)
-- when a manager, an executive or an administrator rules on a pair of
-- mart_collisions; every ruling is kept (the latest one per pair stands) and
-- also goes to the dashboards' audit trail.

CREATE SEQUENCE collision_ruling_id_seq START 1;

CREATE TABLE collision_rulings (
    ruling_id                     BIGINT NOT NULL DEFAULT nextval('collision_ruling_id_seq'),
    opportunity_id                VARCHAR NOT NULL,
    conflicts_with_opportunity_id VARCHAR NOT NULL,
    decision                      VARCHAR NOT NULL,
    winner_opportunity_id         VARCHAR,
    winner_registrant             VARCHAR NOT NULL,
    note                          VARCHAR,
    ruled_by                      VARCHAR NOT NULL,
    ruled_by_role                 VARCHAR NOT NULL,
    ruled_at                      TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE collision_rulings IS 'Rulings on collisions (duplicate registrations): one row per ruling, the latest per (opportunity_id, conflicts_with_opportunity_id) stands. The pair is a row of mart_collisions.';
COMMENT ON COLUMN collision_rulings.opportunity_id IS 'The later registration of the pair (mart_collisions.opportunity_id).';
COMMENT ON COLUMN collision_rulings.conflicts_with_opportunity_id IS 'The earlier registration it conflicts with (mart_collisions.conflicts_with_opportunity_id).';
COMMENT ON COLUMN collision_rulings.decision IS 'first: the deal stays with the first registrant; other: it is assigned to the other registrant of the pair.';
COMMENT ON COLUMN collision_rulings.winner_opportunity_id IS 'The deal of the pair registered by the winner.';
COMMENT ON COLUMN collision_rulings.winner_registrant IS 'Who keeps the deal: rep:<rep_id> or partner:<partner_id>.';
COMMENT ON COLUMN collision_rulings.ruled_by IS 'Dashboard username of the person who ruled (see the audit trail).';
