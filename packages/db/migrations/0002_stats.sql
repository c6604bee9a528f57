-- Daily counters for the admins' statistics dashboard: counts and histogram buckets only, never
-- anything of an image or of who sent it. One row per (UTC day, metric, dimension, bucket):
--   requests / bytes   dimension = route kind (detect, anonymize, job)
--   detections         dimension = class (face, plate)
--   errors             dimension = error code (E_…)
--   latency            dimension = route kind, bucket = upper bound in ms ('+Inf' last)
--   confidence         dimension = class, bucket = lower bound of a 0.05-wide score bin

CREATE TABLE stats_daily (
  day date NOT NULL,
  metric text NOT NULL CHECK (metric IN ('requests', 'bytes', 'detections', 'errors', 'latency', 'confidence')),
  dimension text NOT NULL,
  bucket text NOT NULL DEFAULT '',
  value bigint NOT NULL CHECK (value >= 0),
  PRIMARY KEY (day, metric, dimension, bucket)
);
