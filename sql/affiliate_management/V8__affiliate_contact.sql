-- A gym's people now log in against the gym's own database (its gym_login table). What the registry
-- keeps of them is the affiliate's business contact: whom FitBuddy bills and calls, and the address
-- the first owner's invitation goes to when the gym is provisioned.
ALTER TABLE affiliate ADD COLUMN contact_email varchar(254) NOT NULL DEFAULT ''
    CONSTRAINT affiliate_contact_email_check CHECK (contact_email = lower(btrim(contact_email)));

-- Until `manage.py gym_logins_upgrade` has moved them, memberships are where today's owners and coaches
-- are; the command gives each gym its contact from its first owner's address.
COMMENT ON TABLE affiliate_membership IS
    'Before gym logins moved into each gym''s database: read and emptied by manage.py gym_logins_upgrade';
