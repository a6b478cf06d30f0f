-- How many affiliates a database server may hold (NULL: no limit). Placement puts a new affiliate on
-- the accepting server with room and the fewest affiliates; is_accepting = false drains a server.
ALTER TABLE database_server
    ADD COLUMN max_affiliates integer
        CONSTRAINT database_server_max_affiliates_check CHECK (max_affiliates > 0);
