-- An Aurora Serverless v2 server: which cluster, in which region, and its writer endpoint as AWS
-- reports it (host/port are where FitBuddy connects: the endpoint, or a tunnel or proxy to it).
ALTER TABLE database_server
    ADD COLUMN aws_cluster_id varchar(63)  NOT NULL DEFAULT '',
    ADD COLUMN aws_region     varchar(30)  NOT NULL DEFAULT '',
    ADD COLUMN endpoint       varchar(253) NOT NULL DEFAULT '';
