//! The admin commands, against a running server (through its admin socket, taking
//! effect at once) and against a data directory no server runs on.

mod common;

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::common::{admin, admin_ok, admin_stdin, client, data_dir, get_status, Server};
    use futures::{SinkExt, StreamExt};
    use serde_json::{json, Value};
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    use tokio_tungstenite::tungstenite::Message;

    /// The id of the token named `name` in `token list --format json`.
    fn token_id(dir: &std::path::Path, name: &str) -> i64 {
        admin_ok(dir, &["token", "list", "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_i64())
            .unwrap_or_else(|| panic!("no token named {name}"))
    }

    #[tokio::test]
    async fn admin_commands_take_effect_in_the_running_server_at_once() {
        let (_tmp, dir) = data_dir();
        let server = Server::start(&dir);
        let mode = std::fs::metadata(dir.join("admin.sock")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may use the admin socket");

        // A new token works with the very next request...
        let out = admin_ok(&dir, &["token", "create", "--project", "team", "--name", "ci"]);
        let token = out.trim_end();
        assert_eq!(out, format!("{token}\n"), "the token alone on stdout");
        assert_eq!(get_status(&server, "/servers", token).await, 200);

        // ...shows up in the list, without its secret...
        let table = admin_ok(&dir, &["token", "list", "--project", "team"]);
        assert!(table.starts_with("ID"), "{table}");
        assert!(table.contains("team") && table.contains("ci") && table.contains("read_write"), "{table}");
        assert!(!table.contains(token));
        assert!(!table.contains("default"), "--project filters: {table}");

        // ...and a revoked one is refused with the very next request.
        let id = token_id(&dir, "ci");
        admin_ok(&dir, &["token", "revoke", &id.to_string()]);
        assert_eq!(get_status(&server, "/servers", token).await, 401);
        let json_list = admin_ok(&dir, &["token", "list", "--project", "team", "--format", "json"]);
        let row: Value = serde_json::from_str(json_list.lines().next().unwrap()).unwrap();
        assert!(row["revoked"].is_string(), "{row}");

        // Read-only tokens.
        let ro = admin_ok(&dir, &["token", "create", "--read-only", "--name", "viewer"]);
        assert_eq!(get_status(&server, "/servers", ro.trim()).await, 200);

        // Injected API faults reach the live server.
        let first = server.token.clone().unwrap();
        admin_ok(&dir, &["fault", "api", "--code", "maintenance", "--count", "1"]);
        assert_eq!(get_status(&server, "/servers", &first).await, 503);
        assert_eq!(get_status(&server, "/servers", &first).await, 200);
        admin_ok(&dir, &["fault", "action", "--command", "start_server", "--count", "2", "--step", "0"]);
        let faults = admin_ok(&dir, &["fault", "list"]);
        assert!(faults.contains("server_power_on") && faults.contains("action_failed"), "{faults}");
        assert_eq!(admin_ok(&dir, &["fault", "clear"]), "cleared 1 fault(s)\n");

        // Projects.
        admin_ok(&dir, &["project", "create", "other"]);
        let projects = admin_ok(&dir, &["project", "list"]);
        for name in ["default", "team", "other"] {
            assert!(projects.contains(name), "{projects}");
        }
        let dup = admin(&dir, &["project", "create", "other"]);
        assert_eq!(dup.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));

        // The catalogue, live.
        let entry = json!({"kind": "location", "id": 0, "name": "tst1", "description": "Test Park 1", "country": "DE",
            "city": "Teststadt", "latitude": 50.0, "longitude": 10.0, "network_zone": "eu-central"});
        let put = admin_ok(&dir, &["catalog", "put", "--json", &entry.to_string()]);
        let stored: Value = serde_json::from_str(put.trim()).unwrap();
        let loc_id = stored["id"].as_i64().expect("a fresh id");
        assert!(loc_id > 0);
        assert_eq!(get_status(&server, &format!("/locations/{loc_id}"), &first).await, 200);
        assert!(admin_ok(&dir, &["catalog", "list", "location"]).contains("\"tst1\""));
        admin_ok(&dir, &["catalog", "remove", "location", &loc_id.to_string()]);
        assert_eq!(get_status(&server, &format!("/locations/{loc_id}"), &first).await, 404);

        // The price list, live: shown as JSON, edited, put back, visible in /pricing at once.
        let mut prices: Value = serde_json::from_str(admin_ok(&dir, &["catalog", "prices"]).trim()).unwrap();
        assert_eq!(prices["vat_basis_points"], 1900);
        prices["vat_basis_points"] = json!(2000);
        admin_ok(&dir, &["catalog", "set-prices", "--json", &prices.to_string()]);
        let pricing: Value = client()
            .get(format!("{}/pricing", server.hetzner))
            .bearer_auth(&first)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(pricing["pricing"]["vat_rate"], "20.00", "{pricing}");
        let bad = admin(&dir, &["catalog", "set-prices", "--json", "{\"currency\": 1}"]);
        assert_eq!(bad.status.code(), Some(1));

        assert_eq!(
            admin_ok(&dir, &["sim", "advance", "--hours", "48"]),
            "0 backup(s) started, 0 rescue system(s) disabled\n"
        );

        // Failures are reported on stderr with a non-zero exit.
        let missing = admin(&dir, &["token", "revoke", "999999"]);
        assert_eq!(missing.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
        assert!(missing.stdout.is_empty());
    }

    /// Users and API keys, made with and without a server running, land in the same
    /// store: a name taken either way is taken for the other, and secrets never show twice.
    #[tokio::test]
    async fn users_and_api_keys_are_made_with_or_without_a_server() {
        let (_tmp, dir) = data_dir();
        let user = ["user", "create", "--project", "team", "--name", "alice", "--password-stdin"];
        let out = admin_stdin(&dir, &user, "correct horse\n");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(printed.starts_with("created user alice (id ") && printed.ends_with(" in project team\n"), "{printed}");
        let key_out = admin_ok(&dir, &["apikey", "create", "--project", "team"]);
        let lines: Vec<&str> = key_out.lines().collect();
        assert_eq!(lines.len(), 2, "the key and its secret, one per line: {key_out}");
        assert!(lines.iter().all(|l| l.len() >= 32 && l.chars().all(|c| c.is_ascii_alphanumeric())), "{key_out}");
        assert!(dir.join("installation.key").exists(), "the key that seals the secret");

        let server = Server::start(&dir);
        let taken = admin_stdin(&dir, &user, "another password\n");
        assert_eq!(taken.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"), "{taken:?}");
        let bob = ["user", "create", "--project", "team", "--name", "bob", "--password-stdin"];
        assert!(admin_stdin(&dir, &bob, "long enough\n").status.success());
        for (input, why) in [("short\n", "at least 8"), ("", "no password")] {
            let bad = admin_stdin(&dir, &["user", "create", "--name", "carol", "--password-stdin"], input);
            assert_eq!(bad.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&bad.stderr).contains(why), "{why}: {bad:?}");
        }
        let missing = admin(&dir, &["user", "create", "--name", "dave"]);
        assert_eq!(missing.status.code(), Some(2), "--password-stdin is required");
        let second = admin_ok(&dir, &["apikey", "create", "--project", "team"]);
        assert_ne!(second, key_out);
        let users = admin_ok(&dir, &["user", "list", "--project", "team"]);
        assert!(users.starts_with("ID") && users.contains("alice") && users.contains("bob"), "{users}");
        assert!(!users.contains("argon2"), "never the hash: {users}");
        let keys = admin_ok(&dir, &["apikey", "list", "--format", "json"]);
        let rows: Vec<Value> = keys.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 2, "{keys}");
        assert_eq!(rows[0]["key"], lines[0], "the public half");
        assert!(!keys.contains(lines[1]), "never the secret: {keys}");
        let id = rows[0]["id"].as_i64().unwrap().to_string();
        assert_eq!(admin_ok(&dir, &["apikey", "revoke", &id]), format!("revoked API key {id}\n"));
        let keys = admin_ok(&dir, &["apikey", "list", "--format", "json"]);
        let first: Value = serde_json::from_str(keys.lines().next().unwrap()).unwrap();
        assert!(first["revoked"].is_string(), "{first}");
        // The running server's log has the requests but never the password.
        let log = server.stderr();
        assert!(log.contains("user_create") || log.contains("UserCreate"), "the request is logged: {log}");
        assert!(!log.contains("long enough") && !log.contains("correct horse"), "a password in the log: {log}");
        server.terminate();
        let taken = admin_stdin(&dir, &bob, "long enough\n");
        assert_eq!(taken.status.code(), Some(1), "bob, made through the server, is in the store");
    }

    #[tokio::test]
    async fn admin_commands_work_on_a_data_dir_without_a_server() {
        let (_tmp, dir) = data_dir();

        // Reading a directory that holds nothing is a mistake, not an empty cloud.
        let out = admin(&dir, &["token", "list"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no Stratus data"));
        assert!(!dir.exists());

        // Creating works, and creates the directory.
        let token = admin_ok(&dir, &["token", "create", "--project", "ops"]).trim().to_string();
        let doomed = admin_ok(&dir, &["token", "create", "--project", "ops", "--name", "doomed"]).trim().to_string();
        admin_ok(&dir, &["token", "revoke", &token_id(&dir, "doomed").to_string()]);
        admin_ok(&dir, &["project", "create", "spare"]);
        let projects = admin_ok(&dir, &["project", "list", "--format", "json"]);
        let names: Vec<String> = projects
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["ops", "spare"]);

        // Several entries from a file (the `catalog list` format), then one removed again.
        let file = dir.parent().unwrap().join("entries.jsonl");
        let location = |name: &str| {
            json!({"kind": "location", "id": 0, "name": name, "description": name, "country": "DE", "city": "Teststadt",
                "latitude": 50.0, "longitude": 10.0, "network_zone": "eu-central"})
        };
        std::fs::write(&file, format!("{}\n{}\n", location("tst1"), location("tst2"))).unwrap();
        let put = admin_ok(&dir, &["catalog", "put", "--file", file.to_str().unwrap()]);
        assert_eq!(put.lines().count(), 2, "{put}");
        let listed = admin_ok(&dir, &["catalog", "list", "location"]);
        assert!(listed.contains("\"tst1\"") && listed.contains("\"tst2\""), "{listed}");
        let id = serde_json::from_str::<Value>(put.lines().next().unwrap()).unwrap()["id"].as_i64().unwrap();
        admin_ok(&dir, &["catalog", "remove", "location", &id.to_string()]);
        assert!(!admin_ok(&dir, &["catalog", "list", "location"]).contains("\"tst1\""));

        admin_ok(&dir, &["fault", "api", "--code", "rate_limit_exceeded", "--count", "1"]);
        assert!(admin_ok(&dir, &["fault", "list"]).contains("rate_limit_exceeded"));
        assert_eq!(
            admin_ok(&dir, &["sim", "advance", "--hours", "1"]),
            "0 backup(s) started, 0 rescue system(s) disabled\n"
        );

        // A server started on it afterwards: projects exist, so no new token is printed; the
        // offline token works and the offline revocation and fault hold.
        let server = Server::start(&dir);
        assert_eq!(server.token, None, "{:?}", server.banner);
        assert_eq!(get_status(&server, "/servers", &token).await, 429, "the fault armed offline fires");
        assert_eq!(get_status(&server, "/servers", &token).await, 200);
        assert_eq!(get_status(&server, "/servers", &doomed).await, 401);
    }

    #[test]
    fn a_locked_data_dir_without_an_answering_socket_is_reported() {
        let (_tmp, dir) = data_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let lock = std::fs::File::create(dir.join("stratus.lock")).unwrap();
        lock.try_lock().unwrap();
        let started = Instant::now();
        let out = admin(&dir, &["token", "create"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("in use by another stratus process") && stderr.contains("does not answer"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(out.stdout.is_empty());
    }

    #[tokio::test]
    async fn the_console_of_a_server_echoes() {
        let (_tmp, dir) = data_dir();
        let server = Server::start(&dir);
        let token = server.token.clone().unwrap();
        let http = client();
        let created: Value = http
            .post(format!("{}/servers", server.hetzner))
            .bearer_auth(&token)
            .json(&json!({"name": "web", "server_type": "cx22", "image": "debian-12"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["server"]["id"].as_i64().unwrap_or_else(|| panic!("server create: {created}"));
        // Instant timing: the create action finishes at once, but asynchronously.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Value = http
                .get(format!("{}/servers/{id}", server.hetzner))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if got["server"]["status"] == "running" {
                break;
            }
            assert!(Instant::now() < deadline, "server never running: {got}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let console: Value = http
            .post(format!("{}/servers/{id}/actions/request_console", server.hetzner))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = console["wss_url"].as_str().unwrap_or_else(|| panic!("request_console: {console}"));
        assert!(url.starts_with("ws://") && url.contains("/console/"), "{url}");
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(Message::text("ping?")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ping?"));
    }

    /// `catalog list KIND | catalog put --file -` must put back exactly what was listed, for
    /// every kind: the listing is the editing format.
    #[test]
    fn catalog_entries_round_trip_through_list_and_put() {
        let (_tmp, dir) = data_dir();
        admin_ok(&dir, &["project", "create", "p"]);
        for kind in ["location", "datacenter", "server-type", "image", "iso"] {
            let listed = admin_ok(&dir, &["catalog", "list", kind]);
            assert!(!listed.is_empty(), "the default catalogue has {kind} entries");
            let mut put = stratus_put(&dir, &listed);
            put.sort();
            let mut before: Vec<&str> = listed.lines().collect();
            before.sort();
            assert_eq!(put, before, "{kind}");
        }
    }

    /// `stratus catalog put --file -` with `input` on stdin; the entries it printed.
    fn stratus_put(dir: &std::path::Path, input: &str) -> Vec<String> {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = super::common::stratus()
            .args(["catalog", "put", "--file", "-", "--data-dir"])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
    }
}
