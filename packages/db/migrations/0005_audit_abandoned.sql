-- A processing request whose client left before the answer reached it is audited as abandoned.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_outcome_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check
  CHECK (outcome IN ('ok', 'refused', 'failed', 'abandoned'));
