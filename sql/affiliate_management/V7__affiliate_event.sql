-- Every operation on an affiliate (provision, suspend, resume, archive, backup, restore) records its
-- steps here, not only provisioning: the table, its sequence, constraints and index take the name
-- the code uses for it, affiliate_event.
ALTER TABLE provisioning_event RENAME TO affiliate_event;
ALTER SEQUENCE provisioning_event_id_seq RENAME TO affiliate_event_id_seq;
ALTER TABLE affiliate_event RENAME CONSTRAINT provisioning_event_pkey TO affiliate_event_pkey;
ALTER TABLE affiliate_event RENAME CONSTRAINT provisioning_event_affiliate_fkey TO affiliate_event_affiliate_fkey;
ALTER TABLE affiliate_event RENAME CONSTRAINT provisioning_event_outcome_check TO affiliate_event_outcome_check;
ALTER TABLE affiliate_event RENAME CONSTRAINT provisioning_event_duration_check TO affiliate_event_duration_check;
ALTER INDEX provisioning_event_affiliate_created_idx RENAME TO affiliate_event_affiliate_created_idx;

-- Expand, then contract: processes still running the previous release write to provisioning_event
-- until they are replaced. This view (automatically updatable: reads, inserts and updates reach
-- affiliate_event, with its defaults) keeps them working meanwhile; a later version drops it.
CREATE VIEW provisioning_event AS SELECT * FROM affiliate_event;
