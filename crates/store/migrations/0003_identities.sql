-- Identities beside the bearer tokens: users who log in with a password, their login
-- sessions, and API keys whose secret signs requests. Same shape as every table of 0001
-- (see there).

CREATE TABLE users    (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE api_keys (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
