//! `stratus serve`: first start, restart, configuration layers, exclusive data dirs and
//! clean refusals, all against the real binary.

mod common;

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::common::{admin, client, data_dir, get_status, serve_cmd, Server};

    #[tokio::test]
    async fn first_start_prints_a_token_once_and_serves() {
        let (_tmp, dir) = data_dir();
        let server = Server::start(&dir);
        let token = server.token.clone().expect("first start prints `token: <SECRET>`");
        assert!(token.len() >= 32 && token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
        assert_eq!(server.hetzner, format!("{}/hetzner/v1", server.base), "the printed URL has the bound port");
        assert!(!server.base.ends_with(":0"), "{}", server.base);

        let health = client().get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await.unwrap(), "ok");

        assert_eq!(get_status(&server, "/servers", &token).await, 200);
        assert_eq!(get_status(&server, "/locations", &token).await, 200);
        assert_eq!(get_status(&server, "/servers", "not-a-token").await, 401);
        let anonymous = client().get(format!("{}/servers", server.hetzner)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);

        // An operator's stop: a clean exit that releases the directory and the socket.
        let status = server.terminate();
        assert!(status.success(), "serve exited with {status} on SIGTERM");
        assert!(!dir.join("admin.sock").exists(), "the admin socket is removed on stop");

        let again = Server::start(&dir);
        assert_eq!(again.token, None, "the token is printed only on the first start: {:?}", again.banner);
        assert_eq!(get_status(&again, "/servers", &token).await, 200, "the first token survives a restart");
    }

    #[tokio::test]
    async fn a_second_server_on_the_same_data_dir_is_refused() {
        let (_tmp, dir) = data_dir();
        let first = Server::start(&dir);
        let out = serve_cmd(Some(&dir), &["--listen", "127.0.0.1:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("in use by another stratus process"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("token:"));
        // The first one is unaffected.
        assert_eq!(client().get(first.url("/healthz")).send().await.unwrap().status(), 200);
    }

    #[test]
    fn an_unreachable_libvirt_is_refused_cleanly() {
        // Without the `libvirt` feature the driver is refused as missing from the build;
        // with it, this socket does not exist. Either way nothing is left behind.
        let (_tmp, dir) = data_dir();
        let uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
        let out = serve_cmd(Some(&dir), &["--driver", "libvirt", "--libvirt-uri", uri, "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("libvirt"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!dir.exists(), "a refused start leaves no data directory behind");

        // The same through the environment.
        let out = serve_cmd(Some(&dir), &["--listen", "127.0.0.1:0"])
            .env("STRATUS_DRIVER", "libvirt")
            .env("STRATUS_LIBVIRT_URI", uri)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(!dir.exists());
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        let (tmp, dir) = data_dir();
        let out = serve_cmd(Some(&dir), &["--sim-timing", "slow"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("slow"));

        let config = tmp.path().join("bad.toml");
        std::fs::write(&config, "rate_limt = 5\n").unwrap();
        let out = serve_cmd(Some(&dir), &["--config"]).arg(&config).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid config file") && stderr.contains("rate_limt"), "{stderr}");

        let out = serve_cmd(Some(&dir), &["--config", "/nonexistent/stratus.toml"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
    }

    /// Sends requests until one is refused with 429; returns how many were allowed.
    async fn allowed_before_429(server: &Server, token: &str) -> usize {
        for allowed in 0..10 {
            match get_status(server, "/locations", token).await {
                429 => return allowed,
                200 => {}
                other => panic!("unexpected status {other}"),
            }
        }
        panic!("no 429 within 10 requests");
    }

    #[tokio::test]
    async fn every_setting_can_come_from_the_environment() {
        let (_tmp, dir) = data_dir();
        let mut cmd = serve_cmd(None, &[]);
        cmd.env("STRATUS_DATA_DIR", &dir)
            .env("STRATUS_LISTEN", "127.0.0.1:0")
            .env("STRATUS_SIM_TIMING", "instant")
            .env("STRATUS_RATE_LIMIT", "2")
            .env("STRATUS_DRIVER", "sim");
        let server = Server::spawn(cmd);
        assert!(dir.join("stratus.db").exists(), "STRATUS_DATA_DIR is used");
        let token = server.token.clone().unwrap();
        assert_eq!(allowed_before_429(&server, &token).await, 2, "STRATUS_RATE_LIMIT=2: the third request is refused");
    }

    #[tokio::test]
    async fn settings_come_from_the_config_file_below_env_and_flags() {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("stratus.toml");
        // data_dir is relative: to the config file, not to the working directory.
        std::fs::write(
            &config,
            "listen = \"127.0.0.1:0\"\ndata_dir = \"from-config\"\nsim_timing = \"instant\"\nrate_limit = 2\n",
        )
        .unwrap();

        // The file alone.
        let mut cmd = serve_cmd(None, &["--config"]);
        cmd.arg(&config);
        let server = Server::spawn(cmd);
        assert!(tmp.path().join("from-config").join("stratus.db").exists());
        let token = server.token.clone().unwrap();
        assert_eq!(allowed_before_429(&server, &token).await, 2, "rate_limit = 2 from the file");
        drop(server);

        // The environment beats the file (STRATUS_CONFIG names it this time).
        let (_tmp2, dir) = data_dir();
        let mut cmd = serve_cmd(Some(&dir), &[]);
        cmd.env("STRATUS_CONFIG", &config).env("STRATUS_RATE_LIMIT", "3");
        let server = Server::spawn(cmd);
        let token = server.token.clone().unwrap();
        assert_eq!(allowed_before_429(&server, &token).await, 3, "STRATUS_RATE_LIMIT=3 over the file's 2");
        drop(server);

        // A flag beats both.
        let (_tmp3, dir) = data_dir();
        let mut cmd = serve_cmd(Some(&dir), &["--rate-limit", "1"]);
        cmd.env("STRATUS_CONFIG", &config).env("STRATUS_RATE_LIMIT", "3");
        let server = Server::spawn(cmd);
        let token = server.token.clone().unwrap();
        assert_eq!(allowed_before_429(&server, &token).await, 1, "--rate-limit 1 over env and file");
    }

    #[tokio::test]
    async fn rate_limit_zero_turns_limiting_off() {
        let (_tmp, dir) = data_dir();
        let server = Server::spawn(serve_cmd(
            Some(&dir),
            &["--listen", "127.0.0.1:0", "--sim-timing", "instant", "--rate-limit", "0"],
        ));
        let token = server.token.clone().unwrap();
        for _ in 0..20 {
            assert_eq!(get_status(&server, "/locations", &token).await, 200);
        }
        // Admin commands on a running server ignore serve's flags: nothing to check but that
        // they still work alongside.
        assert!(admin(&dir, &["project", "list"]).status.success());
    }

    #[tokio::test]
    async fn unknown_console_tokens_are_refused() {
        let (_tmp, dir) = data_dir();
        let server = Server::start(&dir);
        let response = client().get(server.url("/console/not-a-session")).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
}
