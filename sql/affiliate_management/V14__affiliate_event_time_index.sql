-- /metrics counts the steps of the last 24 hours on every scrape (fitbuddy/metrics_collectors.py):
-- an index on the time keeps that a short range read however long the event log grows.
CREATE INDEX affiliate_event_created_idx ON affiliate_event (created_at);
