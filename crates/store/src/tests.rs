//! Store tests against a real SQLite file: the `store_test()` fixture opens a fresh
//! database in a temporary directory.

use super::*;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;
use stratus_compute::{DiskSpec, HardwareSpec};
use stratus_core::ids::*;
use stratus_core::labels::Labels;
use stratus_core::model::*;
use stratus_core::store::{Change, Record};
use tempfile::TempDir;

/// A store on a fresh temporary file, and what is needed to reopen it.
struct TestStore {
    dir: TempDir,
    store: SqliteStore,
}

async fn store_test() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    // A nested path, so `open` has to create the directory.
    let store = SqliteStore::open(&dir.path().join("data/stratus.db")).await.unwrap();
    TestStore { dir, store }
}

impl TestStore {
    fn path(&self) -> PathBuf {
        self.dir.path().join("data/stratus.db")
    }

    /// Closes cleanly and opens the same file again.
    async fn reopen(self) -> TestStore {
        let TestStore { dir, store } = self;
        store.close().await.unwrap();
        let store = SqliteStore::open(&dir.path().join("data/stratus.db")).await.unwrap();
        TestStore { dir, store }
    }

    /// Submits and waits until durable.
    async fn commit(&self, batch: Batch) {
        self.store.submit(batch).await.unwrap().unwrap();
    }

    async fn load(&self) -> Snapshot {
        self.store.load().await.unwrap()
    }

    /// A second connection to the file that holds the write lock until dropped or
    /// committed, so batches submitted meanwhile queue up and form one group.
    async fn hold_write_lock(&self) -> SqliteConnection {
        let mut conn = SqliteConnection::connect_with(
            &SqliteConnectOptions::new().filename(self.path()).busy_timeout(BUSY_TIMEOUT),
        )
        .await
        .unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        conn
    }
}

async fn release(mut conn: SqliteConnection) {
    // Give the writer time to pick up the first batch and block on the lock.
    tokio::time::sleep(Duration::from_millis(50)).await;
    sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn batch(changes: Vec<Change>) -> Batch {
    Batch { changes, next_id: 0, price_list: None }
}

fn put(record: Record) -> Change {
    Change::Put(record)
}

fn project(id: i64, name: &str) -> Record {
    Record::Project(Arc::new(Project { id: ProjectId(id), name: name.into(), created: t0() }))
}

fn token(id: i64, project: i64, secret_hash: &str) -> Record {
    Record::Token(Arc::new(Token {
        id: TokenId(id),
        project: ProjectId(project),
        name: "ci".into(),
        kind: CredentialKind::BearerToken,
        access: Access::ReadWrite,
        secret_hash: secret_hash.into(),
        created: t0(),
        revoked: None,
    }))
}

fn labels() -> Labels {
    BTreeMap::from([("env".to_string(), "prod".to_string()), ("tier".into(), String::new())])
}

fn server(id: i64, project: i64, name: &str) -> Record {
    Record::Server(Arc::new(Server {
        id: ServerId(id),
        project: ProjectId(project),
        name: name.into(),
        status: ServerStatus::Running,
        created: t0(),
        server_type: Some(ServerTypeId(3)),
        hardware: HardwareSpec { cores: 2, memory_mb: 4096, disks: vec![DiskSpec { size_gb: 40 }] },
        datacenter: DatacenterId(2),
        image: Some(ImageId(4)),
        iso: None,
        rescue_enabled: false,
        rescue_armed: None,
        backup_window: Some("22-02".into()),
        protection: Protection { delete: true, rebuild: false },
        labels: labels(),
        ssh_keys: vec![SshKeyId(5)],
        user_data: Some("#cloud-config\n".into()),
        traffic: Traffic { ingoing: 1, outgoing: 2 },
        last_backup: None,
        placement_group: None,
    }))
}

fn action(id: i64, project: i64, progress: u8) -> Record {
    Record::Action(Arc::new(Action {
        id: ActionId(id),
        project: ProjectId(project),
        kind: "server_create".into(),
        status: ActionStatus::Running,
        progress,
        started: t0(),
        finished: None,
        resources: vec![ServerId(7).as_ref()],
        error: Some(ActionError { code: "x".into(), message: "y".into() }),
        related: Vec::new(),
        run: Some(Box::new(RunState {
            version: 1,
            params: serde_json::json!({"server": 3}).into(),
            plan: vec!["start_vm".into(), "snapshot".into()],
            done: 1,
            outputs: [("snapshot".to_string(), serde_json::json!(1.5))].into(),
            step_started: t0(),
            unwinding: None,
        })),
        after: Some(ActionId(6)),
    }))
}

/// One record of every kind, with the catalogue rows it refers to.
fn one_of_each() -> Vec<Record> {
    vec![
        project(1, "default"),
        token(2, 1, "ab12"),
        server(7, 1, "web"),
        action(8, 1, 50),
        Record::SshKey(Arc::new(SshKey {
            id: SshKeyId(5),
            project: ProjectId(1),
            name: "me".into(),
            fingerprint: "a9:b6".into(),
            public_key: "ssh-ed25519 AAAA me".into(),
            labels: labels(),
            created: t0(),
        })),
        Record::Ip(Arc::new(PublicIp {
            id: IpId(10),
            project: ProjectId(1),
            role: IpRole::Primary,
            family: IpFamily::V4,
            address: "203.0.113.5".into(),
            name: "primary".into(),
            description: None,
            home_location: LocationId(1),
            assignee: Some(Attachee::Server(ServerId(7))),
            auto_delete: true,
            dns_ptr: vec![DnsPtr { ip: "203.0.113.5".into(), dns_ptr: "web.example".into() }],
            protection: Protection::default(),
            labels: Labels::new(),
            blocked: false,
            created: t0(),
        })),
        Record::Image(Arc::new(Image {
            id: ImageId(4),
            project: None,
            kind: ImageType::System,
            status: ImageStatus::Available,
            name: Some("debian-12".into()),
            description: "Debian 12".into(),
            image_size: None,
            disk_size: 5.0,
            created: t0(),
            created_from: Some((ServerId(7), "web".into())),
            bound_to: None,
            os_flavor: "debian".into(),
            os_version: Some("12".into()),
            architecture: "x86".into(),
            rapid_deploy: true,
            protection: Protection::default(),
            deprecated: None,
            labels: Labels::new(),
        })),
        Record::Iso(Arc::new(Iso {
            id: IsoId(6),
            name: "virtio-win".into(),
            description: "drivers".into(),
            kind: IsoType::Public,
            architecture: Some("x86".into()),
            deprecated: Some(t0()),
        })),
        Record::Location(Arc::new(Location {
            id: LocationId(1),
            name: "fsn1".into(),
            description: "Falkenstein DC Park 1".into(),
            country: "DE".into(),
            city: "Falkenstein".into(),
            latitude: 50.47612,
            longitude: 12.370071,
            network_zone: "eu-central".into(),
        })),
        Record::Datacenter(Arc::new(Datacenter {
            id: DatacenterId(2),
            name: "fsn1-dc14".into(),
            description: "Falkenstein 1 virtual DC 14".into(),
            location: LocationId(1),
        })),
        Record::ServerType(Arc::new(ServerType {
            id: ServerTypeId(3),
            name: "cx22".into(),
            description: "CX22".into(),
            cores: 2,
            memory_gb: 4.0,
            disk_gb: 40,
            storage_type: "local".into(),
            cpu_type: "shared".into(),
            architecture: "x86".into(),
            deprecated: None,
            included_traffic: 21_990_232_555_520,
            prices: vec![LocationPrice {
                location: LocationId(1),
                hourly: Money(6_400_000),
                monthly: Money(3_990_000_000),
            }],
        })),
        Record::Fault(Arc::new(Fault {
            id: FaultId(9),
            target: FaultTarget::Action { kinds: vec!["server_reboot".into()], step: Some(StepRef::Index(0)) },
            remaining: 2,
            code: "action_failed".into(),
            message: "injected".into(),
            created: t0(),
        })),
        Record::Volume(Arc::new(Volume {
            id: VolumeId(20),
            project: ProjectId(1),
            name: "data".into(),
            size_gb: 10,
            location: LocationId(1),
            server: Some(ServerId(7)),
            linux_device: Some("/dev/disk/by-id/scsi-0HC_Volume_20".into()),
            format: Some("ext4".into()),
            status: VolumeStatus::Available,
            protection: Protection::default(),
            labels: labels(),
            created: t0(),
        })),
        Record::Network(Arc::new(Network {
            id: NetworkId(21),
            project: ProjectId(1),
            name: "net".into(),
            ip_range: "10.0.0.0/16".into(),
            subnets: vec![Subnet {
                kind: SubnetKind::Cloud,
                ip_range: "10.0.1.0/24".into(),
                network_zone: "eu-central".into(),
                gateway: "10.0.0.1".into(),
                vswitch_id: None,
            }],
            routes: vec![Route { destination: "10.100.1.0/24".into(), gateway: "10.0.1.1".into() }],
            expose_routes_to_vswitch: false,
            protection: Protection::default(),
            labels: labels(),
            created: t0(),
        })),
        Record::Nic(Arc::new(Nic {
            id: NicId(22),
            project: ProjectId(1),
            owner: Attachee::Server(ServerId(7)),
            network: Some(NetworkId(21)),
            ip: Some("10.0.1.2".into()),
            alias_ips: vec!["10.0.1.3".into()],
            mac: "86:00:00:00:00:16".into(),
            created: t0(),
        })),
        Record::Firewall(Arc::new(Firewall {
            id: FirewallId(23),
            project: ProjectId(1),
            name: "fw".into(),
            rules: vec![FirewallRule {
                direction: Direction::In,
                protocol: "tcp".into(),
                port: Some("22".into()),
                source_ips: vec!["0.0.0.0/0".into()],
                destination_ips: vec![],
                description: None,
            }],
            applied_to: vec![FirewallTarget::Server(ServerId(7)), FirewallTarget::LabelSelector("env=prod".into())],
            labels: labels(),
            created: t0(),
        })),
        Record::LoadBalancer(Arc::new(LoadBalancer {
            id: LoadBalancerId(24),
            project: ProjectId(1),
            name: "lb".into(),
            lb_type: LoadBalancerTypeId(25),
            location: LocationId(1),
            algorithm: Algorithm::RoundRobin,
            public_interface: true,
            services: vec![LbService {
                protocol: LbProtocol::Http,
                listen_port: 80,
                destination_port: 8080,
                proxyprotocol: false,
                health_check: HealthCheck {
                    protocol: LbProtocol::Http,
                    port: 8080,
                    interval: 15,
                    timeout: 10,
                    retries: 3,
                    http: Some(HealthCheckHttp {
                        domain: None,
                        path: "/".into(),
                        response: None,
                        status_codes: vec!["2??".into()],
                        tls: false,
                    }),
                },
                http: Some(LbHttp {
                    cookie_name: "HCLBSTICKY".into(),
                    cookie_lifetime: 300,
                    certificates: vec![CertificateId(27)],
                    redirect_http: false,
                    sticky_sessions: false,
                    timeout_idle: 60,
                }),
            }],
            targets: vec![LbTarget { kind: LbTargetKind::Server(ServerId(7)), use_private_ip: false }],
            traffic: Traffic::default(),
            protection: Protection::default(),
            labels: labels(),
            created: t0(),
        })),
        Record::LoadBalancerType(Arc::new(LoadBalancerType {
            id: LoadBalancerTypeId(25),
            name: "lb11".into(),
            description: "LB11".into(),
            max_connections: 10_000,
            max_services: 5,
            max_targets: 25,
            max_assigned_certificates: 10,
            deprecated: None,
            included_traffic: 1 << 40,
            prices: vec![],
        })),
        Record::PlacementGroup(Arc::new(PlacementGroup {
            id: PlacementGroupId(26),
            project: ProjectId(1),
            name: "spread".into(),
            kind: PlacementKind::Spread,
            labels: labels(),
            created: t0(),
        })),
        Record::Certificate(Arc::new(Certificate {
            id: CertificateId(27),
            project: ProjectId(1),
            name: "cert".into(),
            kind: CertificateKind::Managed,
            certificate: None,
            private_key: None,
            domain_names: vec!["example.com".into()],
            fingerprint: None,
            not_valid_before: None,
            not_valid_after: None,
            status: Some(ManagedStatus {
                issuance: IssuanceStatus::Failed,
                renewal: RenewalStatus::Unavailable,
                error: Some(ActionError::new("no_ca", "no CA is configured")),
            }),
            labels: labels(),
            created: t0(),
        })),
        Record::User(Arc::new(User {
            id: UserId(28),
            project: ProjectId(1),
            name: "alice".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            access: Access::ReadWrite,
            created: t0(),
        })),
        Record::ApiKey(Arc::new(ApiKey {
            id: ApiKeyId(29),
            project: ProjectId(1),
            user: Some(UserId(28)),
            key: "k3y".into(),
            sealed_secret: "v1:c2VhbGVk".into(),
            access: Access::Read,
            created: t0(),
            revoked: None,
        })),
        Record::Session(Arc::new(Session {
            id: SessionId(30),
            project: ProjectId(1),
            user: UserId(28),
            refresh_hash: "ab12".into(),
            created: t0(),
            expires: t0(),
        })),
    ]
}

/// Whether two records are the same kind with equal contents.
fn same(a: &Record, b: &Record) -> bool {
    macro_rules! eq {
        ($($v:ident),*) => {
            match (a, b) {
                $((Record::$v(x), Record::$v(y)) => x == y,)*
                _ => false,
            }
        };
    }
    eq!(
        Project,
        Token,
        Server,
        Action,
        SshKey,
        Ip,
        Image,
        Iso,
        Location,
        Datacenter,
        ServerType,
        Fault,
        Volume,
        Network,
        Nic,
        Firewall,
        LoadBalancer,
        LoadBalancerType,
        PlacementGroup,
        Certificate,
        User,
        ApiKey,
        Session
    )
}

fn find(snapshot: &Snapshot, key: ResourceRef) -> Option<&Record> {
    snapshot.records.iter().find(|r| r.key() == key)
}

fn progress_of(snapshot: &Snapshot, id: i64) -> Option<u8> {
    match find(snapshot, ActionId(id).as_ref()) {
        Some(Record::Action(a)) => Some(a.progress),
        _ => None,
    }
}

fn price_list(currency: &str) -> Arc<PriceList> {
    Arc::new(PriceList {
        currency: currency.into(),
        vat_basis_points: 1900,
        image_per_gb_month: Money(11_900_000),
        floating_ipv4_monthly: Money(3_000_000_000),
        floating_ipv6_monthly: Money(1_000_000_000),
        primary_ipv4_hourly: Money(800_000),
        primary_ipv4_monthly: Money(500_000_000),
        traffic_per_tb: Money(1_000_000_000),
        backup_percentage: 20,
        volume_per_gb_month: Money(44_000_000),
        primary_ipv6_hourly: Money(0),
        primary_ipv6_monthly: Money(0),
    })
}

#[tokio::test]
async fn an_empty_store_loads_empty() {
    let t = store_test().await;
    let snap = t.load().await;
    assert!(snap.records.is_empty());
    assert_eq!(snap.next_id, 1);
    assert!(snap.price_list.is_none());
    assert_eq!(t.store.commits(), 0);
}

#[tokio::test]
async fn every_kind_round_trips_and_survives_reopening() {
    let t = store_test().await;
    let records = one_of_each();
    let kinds: std::collections::HashSet<_> = records.iter().map(|r| r.key().kind).collect();
    assert_eq!(kinds.len(), schema::KINDS.len(), "the fixture covers every kind");

    t.commit(batch(records.iter().cloned().map(put).collect())).await;
    let t = t.reopen().await;
    let snap = t.load().await;
    assert_eq!(snap.records.len(), records.len());
    for r in &records {
        let got = find(&snap, r.key()).unwrap_or_else(|| panic!("{:?} missing", r.key()));
        assert!(same(r, got), "{r:?} != {got:?}");
    }
}

#[tokio::test]
async fn columns_hold_the_owner_and_the_token_hash() {
    let t = store_test().await;
    t.commit(batch(one_of_each().into_iter().map(put).collect())).await;
    let owner = |table: &'static str, id: i64| {
        let pool = t.store.reader.clone();
        async move {
            sqlx::query_as::<_, (Option<i64>,)>(&format!("SELECT project_id FROM {table} WHERE id = ?"))
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
                .0
        }
    };
    assert_eq!(owner("servers", 7).await, Some(1));
    assert_eq!(owner("tokens", 2).await, Some(1));
    assert_eq!(owner("images", 4).await, None);
    assert_eq!(owner("projects", 1).await, None);
    let (hash,): (String,) =
        sqlx::query_as("SELECT secret_hash FROM tokens WHERE id = 2").fetch_one(&t.store.reader).await.unwrap();
    assert_eq!(hash, "ab12");
}

#[tokio::test]
async fn a_put_replaces_and_a_delete_removes() {
    let t = store_test().await;
    t.commit(batch(vec![put(server(7, 1, "a")), put(server(8, 1, "b"))])).await;
    t.commit(batch(vec![put(server(7, 1, "renamed")), Change::Delete(ServerId(8).as_ref())])).await;
    // Deleting what does not exist is not an error.
    t.commit(batch(vec![Change::Delete(ServerId(99).as_ref())])).await;
    let snap = t.load().await;
    assert_eq!(snap.records.len(), 1);
    assert!(same(&snap.records[0], &server(7, 1, "renamed")));
}

/// Order within a batch, across batches of one group, and across groups.
#[tokio::test]
async fn later_changes_win_in_every_grouping() {
    let t = store_test().await;
    // Separate groups: each batch is durable before the next is submitted.
    t.commit(batch(vec![put(server(1, 1, "x"))])).await;
    t.commit(batch(vec![Change::Delete(ServerId(1).as_ref())])).await;
    t.commit(batch(vec![Change::Delete(ServerId(2).as_ref())])).await;
    t.commit(batch(vec![put(server(2, 1, "x"))])).await;

    // One group: the write lock is held elsewhere while they queue.
    let lock = t.hold_write_lock().await;
    let before = t.store.commits();
    let commits = vec![
        t.store.submit(batch(vec![put(server(3, 1, "x"))])),
        t.store.submit(batch(vec![Change::Delete(ServerId(3).as_ref())])),
        t.store.submit(batch(vec![Change::Delete(ServerId(4).as_ref())])),
        t.store.submit(batch(vec![put(server(4, 1, "x"))])),
        // Within one batch.
        t.store.submit(batch(vec![
            put(action(5, 1, 10)),
            put(action(5, 1, 20)),
            put(server(6, 1, "x")),
            Change::Delete(ServerId(6).as_ref()),
        ])),
        t.store.submit(batch(vec![put(action(5, 1, 30))])),
    ];
    release(lock).await;
    for c in commits {
        c.await.unwrap().unwrap();
    }
    assert!(t.store.commits() - before <= 2, "the queued batches were grouped");

    let snap = t.load().await;
    let servers: Vec<i64> =
        snap.records.iter().filter_map(|r| matches!(r, Record::Server(_)).then_some(r.key().id)).collect();
    assert_eq!(servers, vec![2, 4]);
    assert_eq!(progress_of(&snap, 5), Some(30));
}

#[tokio::test]
async fn next_id_only_grows_and_the_price_list_is_the_last_one() {
    let t = store_test().await;
    let with = |next_id: i64, currency: Option<&str>| Batch {
        changes: Vec::new(),
        next_id,
        price_list: currency.map(price_list),
    };
    t.commit(with(10, Some("EUR"))).await;
    t.commit(with(5, None)).await;
    // A batch that does not set the sequence leaves it alone.
    t.commit(with(0, None)).await;
    assert_eq!(t.load().await.next_id, 10);

    let lock = t.hold_write_lock().await;
    let commits =
        [with(20, Some("USD")), with(15, None), with(0, Some("CHF")), with(12, None)].map(|b| t.store.submit(b));
    release(lock).await;
    for c in commits {
        c.await.unwrap().unwrap();
    }
    let t = t.reopen().await;
    let snap = t.load().await;
    assert_eq!(snap.next_id, 20);
    assert_eq!(snap.price_list.as_deref(), Some(&*price_list("CHF")));
}

#[tokio::test]
async fn durable_without_a_clean_close() {
    let t = store_test().await;
    t.commit(batch(vec![put(project(1, "p")), put(server(2, 1, "s"))])).await;
    // Dropped, not closed: the resolved commit alone must be enough.
    let TestStore { dir, store } = t;
    let path = dir.path().join("data/stratus.db");
    drop(store);
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.load().await.unwrap().records.len(), 2);
    again.close().await.unwrap();
}

/// Many submitters at once, each with its own records, some batches submitted in pairs
/// without waiting. Every commit resolves, every row has its latest version, and the
/// writer needed fewer transactions than there were batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_submitters_are_grouped_and_nothing_is_lost() {
    const SUBMITTERS: i64 = 64;
    const BATCHES: i64 = 100;
    let t = Arc::new(store_test().await);
    // Server ids of submitter s are s * 1000 + i; its action is s * 1000 + 999.
    let mut tasks = Vec::new();
    for s in 0..SUBMITTERS {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let base = (s + 1) * 1000;
            let mut i = 0;
            while i < BATCHES {
                let mut pending = Vec::new();
                for _ in 0..2 {
                    let mut changes = vec![
                        put(server(base + i, s + 1, "s")),
                        put(action(base + 999, s + 1, u8::try_from(i).unwrap())),
                    ];
                    if i % 2 == 1 {
                        changes.push(Change::Delete(ServerId(base + i - 1).as_ref()));
                    }
                    pending.push(t.store.submit(Batch { changes, next_id: base + i + 1, price_list: None }));
                    i += 1;
                }
                for c in pending {
                    c.await.unwrap().unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = u64::try_from(SUBMITTERS * BATCHES).unwrap();
    let commits = t.store.commits();
    assert!(commits < total, "{commits} transactions for {total} batches");

    let snap = t.load().await;
    assert_eq!(snap.next_id, SUBMITTERS * 1000 + BATCHES);
    for s in 0..SUBMITTERS {
        let base = (s + 1) * 1000;
        assert_eq!(progress_of(&snap, base + 999), Some(u8::try_from(BATCHES - 1).unwrap()));
        for i in 0..BATCHES {
            let present = find(&snap, ServerId(base + i).as_ref()).is_some();
            assert_eq!(present, i % 2 == 1, "server {}", base + i);
        }
    }
    let servers = snap.records.iter().filter(|r| matches!(r, Record::Server(_))).count();
    assert_eq!(servers, usize::try_from(SUBMITTERS * BATCHES / 2).unwrap());
}

#[tokio::test]
async fn a_failed_group_fails_all_its_batches_and_the_next_one_commits() {
    let t = store_test().await;
    t.commit(batch(vec![put(token(1, 1, "same"))])).await;

    let lock = t.hold_write_lock().await;
    // The duplicate secret hash violates the unique index; the other batch shares its fate.
    let bad = t.store.submit(batch(vec![put(token(2, 1, "same"))]));
    let good = t.store.submit(batch(vec![put(project(3, "p"))]));
    release(lock).await;
    let err = bad.await.unwrap().unwrap_err();
    assert!(err.0.contains("tokens"), "{err}");
    assert!(good.await.unwrap().is_err());

    // No transaction was left open: the writer goes on.
    t.commit(batch(vec![put(project(4, "q"))])).await;
    let t = t.reopen().await;
    let keys: Vec<ResourceRef> = t.load().await.records.iter().map(Record::key).collect();
    assert_eq!(keys, vec![ProjectId(4).as_ref(), TokenId(1).as_ref()]);
}

#[tokio::test]
async fn a_corrupt_row_fails_the_load_naming_it() {
    let t = store_test().await;
    t.commit(batch(vec![put(server(7, 1, "a")), put(server(8, 1, "b"))])).await;
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(t.path())).await.unwrap();

    sqlx::query("UPDATE servers SET data = '{\"name\": 1}' WHERE id = 8").execute(&mut conn).await.unwrap();
    let err = t.store.load().await.unwrap_err();
    assert!(err.0.contains("servers row 8"), "{err}");

    // A row holding another record's JSON is as wrong as unparsable JSON.
    sqlx::query("UPDATE servers SET data = (SELECT data FROM servers WHERE id = 7) WHERE id = 8")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = t.store.load().await.unwrap_err();
    assert!(err.0.contains("servers row 8 holds the record of id 7"), "{err}");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn opening_twice_keeps_the_schema_and_data() {
    let t = store_test().await;
    t.commit(batch(vec![put(project(1, "p"))])).await;
    let t = t.reopen().await.reopen().await;
    assert_eq!(t.load().await.records.len(), 1);
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&t.store.reader).await.unwrap();
    assert_eq!(mode, "wal");
    // The read pool is opened with the writer's options, so it shows them too.
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&t.store.reader).await.unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let (busy,): (i64,) = sqlx::query_as("PRAGMA busy_timeout").fetch_one(&t.store.reader).await.unwrap();
    assert_eq!(busy, 5000);
}

#[tokio::test]
async fn a_batch_that_changes_nothing_resolves_without_a_transaction() {
    let t = store_test().await;
    t.commit(Batch::default()).await;
    assert_eq!(t.store.commits(), 0);
    assert_eq!(t.load().await.next_id, 1);
}

/// A data directory written by the version before the reshaped core (migration 0001
/// only, actions with Hetzner commands and unversioned plans) loads after migration
/// 0002: history keeps its kinds, an interrupted action ends failed with its server
/// `unknown`, IPs get tagged assignees, stale faults go.
#[tokio::test]
async fn rows_of_the_previous_version_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new().filename(dir.path().join("old.db")).create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/0001_init.sql")).execute(&mut conn).await.unwrap();
    let server = r#"{"id":7,"project":1,"name":"web","status":"starting","created":"2024-05-01T12:00:00Z",
        "server_type":3,"hardware":{"cores":2,"memory_mb":4096,"disks":[{"size_gb":40}]},"datacenter":2,
        "image":4,"iso":null,"rescue_enabled":false,"backup_window":null,
        "protection":{"delete":false,"rebuild":false},"labels":{},"ipv4":10,"ipv6":null,"ssh_keys":[],
        "user_data":null,"traffic":{"ingoing":0,"outgoing":0}}"#;
    let done = r#"{"id":11,"project":1,"command":"create_server","status":"success","progress":100,
        "started":"2024-05-01T12:00:00Z","finished":"2024-05-01T12:00:05Z","resources":[{"kind":"server","id":7}],
        "error":null,"plan":{"steps":[{"step":"create_vm","spec":{}}],"done":1,"unwinding":null},"after":null}"#;
    let running = r#"{"id":12,"project":1,"command":"start_server","status":"running","progress":0,
        "started":"2024-05-01T12:00:06Z","finished":null,"resources":[{"kind":"server","id":7}],
        "error":null,"plan":{"steps":[{"step":"start_vm"}],"done":0,"unwinding":null},"after":null}"#;
    let ip = r#"{"id":10,"project":1,"role":"primary","family":"v4","address":"198.18.0.2","name":"primary_ip-10",
        "description":null,"home_location":1,"assignee":7,"dns_ptr":[],"protection":{"delete":false,"rebuild":false},
        "labels":{},"blocked":false,"created":"2024-05-01T12:00:00Z"}"#;
    let fault = r#"{"id":13,"target":{"target":"action","command":"start_server","step":null},"remaining":1,
        "code":"x","message":"y","created":"2024-05-01T12:00:00Z"}"#;
    for (table, id, data) in [
        ("servers", 7, server),
        ("actions", 11, done),
        ("actions", 12, running),
        ("ips", 10, ip),
        ("faults", 13, fault),
    ] {
        sqlx::query(&format!("INSERT INTO {table} (id, project_id, data) VALUES (?, 1, ?)"))
            .bind(id)
            .bind(data)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::raw_sql(include_str!("../migrations/0002_resources.sql")).execute(&mut conn).await.unwrap();
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT 'servers', id, data FROM servers UNION ALL SELECT 'actions', id, data FROM actions \
         UNION ALL SELECT 'ips', id, data FROM ips UNION ALL SELECT 'faults', id, data FROM faults",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let kind_of = |t: &str| *schema::KINDS.iter().find(|k| schema::table(**k) == t).unwrap();
    let records: Vec<Record> = rows
        .iter()
        .map(|(t, id, data)| schema::decode(kind_of(t), *id, data).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(records.len(), 4, "the old fault is gone");
    for r in records {
        match r {
            Record::Server(s) => assert_eq!(s.status, ServerStatus::Unknown),
            Record::Action(a) if a.id == ActionId(11) => {
                assert_eq!(
                    (a.kind.as_str(), a.status, a.run.is_none()),
                    ("server_create", ActionStatus::Success, true)
                );
            }
            Record::Action(a) => {
                assert_eq!((a.kind.as_str(), a.status), ("server_power_on", ActionStatus::Error));
                assert_eq!(a.error.as_ref().map(|e| e.code.as_str()), Some("action_failed"));
                assert!(a.finished.is_some());
            }
            Record::Ip(ip) => assert_eq!((ip.assignee, ip.auto_delete), (Some(Attachee::Server(ServerId(7))), true)),
            other => panic!("unexpected {other:?}"),
        }
    }
}
