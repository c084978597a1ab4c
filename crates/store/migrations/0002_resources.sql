-- The resources of the reshaped core: volumes, networks and their interfaces,
-- firewalls, load balancers (and their types), placement groups, certificates. Same
-- shape as every table of 0001 (see there).

CREATE TABLE volumes             (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE networks            (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE nics                (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE firewalls           (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE load_balancers      (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE load_balancer_types (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE placement_groups    (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);
CREATE TABLE certificates        (id INTEGER PRIMARY KEY, project_id INTEGER NULL, data TEXT NOT NULL);

-- Rows written by the version before: actions named a Hetzner `command` and kept a plan
-- of unversioned steps. Finished ones keep their history under the kind names of now;
-- one still running cannot be resumed by this version's engine, so it ends as failed
-- and the server it held shows `unknown` (visible, and free for the user to act on).
UPDATE servers SET data = json_set(data, '$.status', 'unknown')
WHERE id IN (
    SELECT json_extract(r.value, '$.id') FROM actions, json_each(actions.data, '$.resources') AS r
    WHERE json_type(actions.data, '$.command') IS NOT NULL
      AND json_extract(actions.data, '$.status') = 'running'
      AND json_extract(r.value, '$.kind') = 'server'
);
UPDATE actions SET data = json_remove(json_set(data,
        '$.kind', CASE json_extract(data, '$.command')
            WHEN 'create_server' THEN 'server_create'
            WHEN 'delete_server' THEN 'server_delete'
            WHEN 'start_server' THEN 'server_power_on'
            WHEN 'stop_server' THEN 'server_power_off'
            WHEN 'shutdown_server' THEN 'server_shutdown'
            WHEN 'reboot_server' THEN 'server_reboot'
            WHEN 'reset_server' THEN 'server_reset'
            WHEN 'reset_password' THEN 'server_reset_password'
            WHEN 'enable_rescue' THEN 'server_enable_rescue'
            WHEN 'disable_rescue' THEN 'server_disable_rescue'
            WHEN 'create_image' THEN 'server_create_image'
            WHEN 'rebuild_server' THEN 'server_rebuild'
            WHEN 'change_server_type' THEN 'server_change_type'
            WHEN 'enable_backup' THEN 'server_enable_backup'
            WHEN 'disable_backup' THEN 'server_disable_backup'
            WHEN 'attach_iso' THEN 'server_attach_iso'
            WHEN 'detach_iso' THEN 'server_detach_iso'
            WHEN 'request_console' THEN 'server_request_console'
            WHEN 'assign_floating_ip' THEN 'floating_ip_assign'
            WHEN 'unassign_floating_ip' THEN 'floating_ip_unassign'
            WHEN 'create_backup' THEN 'server_backup'
            ELSE json_extract(data, '$.command') END,
        '$.error', CASE WHEN json_extract(data, '$.status') = 'running'
            THEN json('{"code":"action_failed","message":"interrupted by an upgrade of Stratus"}')
            ELSE json_extract(data, '$.error') END,
        '$.finished', coalesce(json_extract(data, '$.finished'), json_extract(data, '$.started')),
        '$.status', CASE WHEN json_extract(data, '$.status') = 'running' THEN 'error'
            ELSE json_extract(data, '$.status') END
    ), '$.command', '$.plan')
WHERE json_type(data, '$.command') IS NOT NULL;
-- An IP's assignee is now a tagged reference; primary IPs made with servers are deleted
-- with them, as before.
UPDATE ips SET data = json_set(data,
        '$.assignee', json_object('server', json_extract(data, '$.assignee')),
        '$.auto_delete', json(CASE WHEN json_extract(data, '$.role') = 'primary' THEN 'true' ELSE 'false' END))
WHERE json_type(data, '$.assignee') = 'integer';
UPDATE ips SET data = json_set(data,
        '$.auto_delete', json(CASE WHEN json_extract(data, '$.role') = 'primary' THEN 'true' ELSE 'false' END))
WHERE json_type(data, '$.auto_delete') IS NULL;
-- Injected faults named a Hetzner command; they are test settings, not data.
DELETE FROM faults WHERE json_type(data, '$.target.command') IS NOT NULL;
