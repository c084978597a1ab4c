-- One table per record kind. Core keeps the working set in memory and only ever reads
-- everything back at start-up, so each row is the record's JSON (`data`) keyed by its
-- id; `project_id` (the owning project, NULL for the catalogue and for projects
-- themselves) is kept as a column so that per-project queries and a future PostgreSQL
-- store's foreign keys need no JSON parsing. The kind <-> table mapping lives in
-- src/schema.rs; keep both in step.

CREATE TABLE projects     (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE servers      (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE actions      (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE ssh_keys     (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE ips          (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE images       (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE isos         (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE locations    (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE datacenters  (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE server_types (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE faults       (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);

-- Tokens also keep the secret's hash as a column: authentication may look a token up by
-- it without loading every token, and the unique index makes a duplicate secret an error
-- instead of two principals sharing one credential.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NULL,
    data TEXT NOT NULL,
    secret_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX tokens_secret_hash ON tokens (secret_hash);

-- Singletons: `next_id` (the id sequence, as a decimal integer) and `price_list` (JSON).
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
