-- Per-row costs of a message row's parts (docs/BENCHMARKS.md, "The arithmetic"): run with
-- `psql <a scratch database> -f bench/import/row_costs.sql` (it creates and drops t_msg, t_room, t_user, src);
-- each INSERT adds one part.
\timing on
SET synchronous_commit = off; SET work_mem = '64MB'; SET maintenance_work_mem = '256MB';
DROP TABLE IF EXISTS t_msg, t_room, t_user, src;
CREATE TABLE t_room (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, UNIQUE (id, tenant_id));
CREATE TABLE t_user (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, UNIQUE (id, tenant_id));
INSERT INTO t_room SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001' FROM generate_series(1,100);
INSERT INTO t_user SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001' FROM generate_series(1,2000);
CREATE TABLE src AS SELECT gen_random_uuid() AS id, r.id AS room_id, u.id AS sender_id, i AS seq,
  'message ' || i || ': ' || repeat('lorem ipsum dolor sit amet ', 3) AS content
  FROM generate_series(1,100000) i
  JOIN (SELECT id, row_number() OVER () - 1 AS k FROM t_room) r ON r.k = i % 100
  JOIN (SELECT id, row_number() OVER () - 1 AS k FROM t_user) u ON u.k = i % 2000;
ANALYZE src, t_room, t_user;
\echo plain
CREATE TABLE t_msg (id uuid, room_id uuid, tenant_id uuid, seq bigint, sender_id uuid, content text, client_id text, mentions uuid[] NOT NULL DEFAULT '{}');
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
\echo keys: pk, (room,seq), (room,sender,client), sender
TRUNCATE t_msg; ALTER TABLE t_msg ADD PRIMARY KEY (id), ADD UNIQUE (room_id, seq), ADD UNIQUE (room_id, sender_id, client_id);
CREATE INDEX ON t_msg (sender_id);
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
\echo + tsvector generated
DROP TABLE t_msg;
CREATE TABLE t_msg (id uuid PRIMARY KEY, room_id uuid, tenant_id uuid, seq bigint, sender_id uuid, content text, client_id text, mentions uuid[] NOT NULL DEFAULT '{}',
  search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED, UNIQUE (room_id, seq), UNIQUE (room_id, sender_id, client_id));
CREATE INDEX ON t_msg (sender_id);
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
\echo + GIN search and mentions, 1GB pending list (append), then the merge
TRUNCATE t_msg; CREATE INDEX t_msg_search ON t_msg USING GIN (search); CREATE INDEX t_msg_mentions ON t_msg USING GIN (mentions);
SET gin_pending_list_limit = '1GB';
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
SELECT gin_clean_pending_list('t_msg_search'::regclass) + gin_clean_pending_list('t_msg_mentions'::regclass);
\echo same with the default 4MB pending list
TRUNCATE t_msg; RESET gin_pending_list_limit;
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
\echo + FKs room and sender (by tenant), 1GB pending
TRUNCATE t_msg; SET gin_pending_list_limit = '1GB';
ALTER TABLE t_msg ADD FOREIGN KEY (room_id, tenant_id) REFERENCES t_room (id, tenant_id), ADD FOREIGN KEY (sender_id, tenant_id) REFERENCES t_user (id, tenant_id);
INSERT INTO t_msg (id, room_id, tenant_id, seq, sender_id, content) SELECT id, room_id, '00000000-0000-0000-0000-000000000001', seq, sender_id, content FROM src;
SELECT gin_clean_pending_list('t_msg_search'::regclass) + gin_clean_pending_list('t_msg_mentions'::regclass);
\echo staging: unnest-style temp table with a uuid PK
CREATE TEMP TABLE imp (id uuid PRIMARY KEY, room_id uuid, sender_id uuid, ord text, content text, created_at timestamptz);
INSERT INTO imp SELECT id, room_id, sender_id, seq::text, content, now() FROM src;
DROP TABLE t_msg, t_room, t_user, src;
