//! The default catalogue seeded into a new data directory: places, server types with
//! prices, images and ISOs shaped like a real provider's, so that scripts written for
//! Hetzner (`--type cx22 --image debian-12 --location fsn1`) work unchanged.

use crate::data::Tx;
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use chrono::{TimeZone, Utc};
use std::sync::Arc;

const GB: u64 = 1 << 30;

/// (name, description, country, city, latitude, longitude, network zone)
const LOCATIONS: [(&str, &str, &str, &str, f64, f64, &str); 6] = [
    ("fsn1", "Falkenstein DC Park 1", "DE", "Falkenstein", 50.47612, 12.370071, "eu-central"),
    ("nbg1", "Nuremberg DC Park 1", "DE", "Nuremberg", 49.452102, 11.076665, "eu-central"),
    ("hel1", "Helsinki DC Park 1", "FI", "Helsinki", 60.169855, 24.938379, "eu-central"),
    ("ash", "Ashburn, VA", "US", "Ashburn, VA", 39.045821, -77.487073, "us-east"),
    ("hil", "Hillsboro, OR", "US", "Hillsboro, OR", 45.54222, -122.951924, "us-west"),
    ("sin", "Singapore", "SG", "Singapore", 1.283333, 103.833333, "ap-southeast"),
];

/// (name, description, location)
const DATACENTERS: [(&str, &str, &str); 6] = [
    ("fsn1-dc14", "Falkenstein 1 virtual DC 14", "fsn1"),
    ("nbg1-dc3", "Nuremberg 1 virtual DC 3", "nbg1"),
    ("hel1-dc2", "Helsinki 1 virtual DC 2", "hel1"),
    ("ash-dc1", "Ashburn virtual DC 1", "ash"),
    ("hil-dc1", "Hillsboro virtual DC 1", "hil"),
    ("sin-dc1", "Singapore virtual DC 1", "sin"),
];

/// One default server type: (name, cores, memory GB, disk GB, cpu type, hourly, monthly,
/// TB of traffic included, offered in EU locations only).
type TypeRow = (&'static str, u32, f64, u32, &'static str, &'static str, &'static str, u64, bool);

const SERVER_TYPES: [TypeRow; 10] = [
    ("cx22", 2, 4.0, 40, "shared", "0.0060", "3.7900", 20, true),
    ("cx32", 4, 8.0, 80, "shared", "0.0109", "6.8000", 20, true),
    ("cx42", 8, 16.0, 160, "shared", "0.0263", "16.4000", 20, true),
    ("cx52", 16, 32.0, 320, "shared", "0.0519", "32.4000", 20, true),
    ("cpx11", 2, 2.0, 40, "shared", "0.0070", "4.3500", 20, false),
    ("cpx21", 3, 4.0, 80, "shared", "0.0121", "7.5500", 20, false),
    ("cpx31", 4, 8.0, 160, "shared", "0.0218", "13.6000", 20, false),
    ("cpx41", 8, 16.0, 240, "shared", "0.0404", "25.2000", 20, false),
    ("cpx51", 16, 32.0, 360, "shared", "0.0880", "54.9000", 20, false),
    ("ccx13", 2, 8.0, 80, "dedicated", "0.0200", "12.4900", 20, false),
];

/// (name, description, os flavor, os version)
const IMAGES: [(&str, &str, &str, &str); 8] = [
    ("ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04"),
    ("ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04"),
    ("debian-11", "Debian 11", "debian", "11"),
    ("debian-12", "Debian 12", "debian", "12"),
    ("fedora-41", "Fedora 41", "fedora", "41"),
    ("rocky-9", "Rocky Linux 9", "rocky", "9"),
    ("alma-9", "AlmaLinux 9", "alma", "9"),
    ("centos-stream-9", "CentOS Stream 9", "centos", "stream-9"),
];

/// (name, description, deprecated)
const ISOS: [(&str, &str, bool); 4] = [
    ("virtio-win-0.1.248.iso", "virtio 0.1.248", false),
    ("alpine-virt-3.20.3-x86_64.iso", "Alpine Linux 3.20.3 (virt)", false),
    ("FreeBSD-14.1-RELEASE-amd64-disc1.iso", "FreeBSD 14.1 amd64", false),
    ("virtio-win-0.1.185.iso", "virtio 0.1.185", true),
];

/// One default load balancer type: (name, max connections, services, targets,
/// certificates, hourly, monthly).
type LbTypeRow = (&'static str, u32, u32, u32, u32, &'static str, &'static str);

const LOAD_BALANCER_TYPES: [LbTypeRow; 3] = [
    ("lb11", 10_000, 5, 25, 10, "0.0088", "5.3900"),
    ("lb21", 20_000, 15, 75, 25, "0.0268", "16.4000"),
    ("lb31", 40_000, 30, 150, 50, "0.0536", "32.9000"),
];

fn money(s: &str) -> Money {
    Money::parse(s).unwrap_or_default()
}

/// Writes the default catalogue and price list.
pub(crate) fn seed(tx: &mut Tx) {
    let created = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().unwrap_or_else(Utc::now);
    let mut locations = Vec::new();
    for (name, description, country, city, latitude, longitude, zone) in LOCATIONS {
        let id = LocationId(tx.next_id());
        locations.push((name, id));
        tx.put(Record::Location(Arc::new(Location {
            id,
            name: name.into(),
            description: description.into(),
            country: country.into(),
            city: city.into(),
            latitude,
            longitude,
            network_zone: zone.into(),
        })));
    }
    let location = |name: &str| locations.iter().find(|(n, _)| *n == name).map(|(_, id)| *id).unwrap_or(LocationId(0));
    for (name, description, loc) in DATACENTERS {
        let id = DatacenterId(tx.next_id());
        tx.put(Record::Datacenter(Arc::new(Datacenter {
            id,
            name: name.into(),
            description: description.into(),
            location: location(loc),
        })));
    }
    for (name, cores, memory_gb, disk_gb, cpu_type, hourly, monthly, traffic_tb, eu_only) in SERVER_TYPES {
        let prices = locations
            .iter()
            .filter(|(n, _)| !eu_only || matches!(*n, "fsn1" | "nbg1" | "hel1"))
            .map(|(_, id)| LocationPrice { location: *id, hourly: money(hourly), monthly: money(monthly) })
            .collect();
        let id = ServerTypeId(tx.next_id());
        tx.put(Record::ServerType(Arc::new(ServerType {
            id,
            name: name.into(),
            description: name.to_uppercase(),
            cores,
            memory_gb,
            disk_gb,
            storage_type: "local".into(),
            cpu_type: cpu_type.into(),
            architecture: "x86".into(),
            deprecated: None,
            included_traffic: traffic_tb * 1024 * GB,
            prices,
        })));
    }
    for (name, description, flavor, version) in IMAGES {
        let id = ImageId(tx.next_id());
        tx.put(Record::Image(Arc::new(Image {
            id,
            project: None,
            kind: ImageType::System,
            status: ImageStatus::Available,
            name: Some(name.into()),
            description: description.into(),
            image_size: None,
            disk_size: 5.0,
            created,
            created_from: None,
            bound_to: None,
            os_flavor: flavor.into(),
            os_version: Some(version.into()),
            architecture: "x86".into(),
            rapid_deploy: true,
            protection: Protection::default(),
            deprecated: None,
            labels: Labels::new(),
        })));
    }
    for (name, description, deprecated) in ISOS {
        let id = IsoId(tx.next_id());
        tx.put(Record::Iso(Arc::new(Iso {
            id,
            name: name.into(),
            description: description.into(),
            kind: IsoType::Public,
            architecture: Some("x86".into()),
            deprecated: deprecated.then_some(created),
        })));
    }
    seed_load_balancer_types(tx);
    tx.set_price_list(PriceList {
        currency: "EUR".into(),
        vat_basis_points: 1900,
        image_per_gb_month: money("0.0119"),
        floating_ipv4_monthly: money("3.0000"),
        floating_ipv6_monthly: money("3.0000"),
        primary_ipv4_hourly: money("0.0008"),
        primary_ipv4_monthly: money("0.5000"),
        traffic_per_tb: money("1.0000"),
        backup_percentage: 20,
        volume_per_gb_month: money("0.0440"),
        primary_ipv6_hourly: Money::default(),
        primary_ipv6_monthly: Money::default(),
    });
}

/// Writes the default load balancer types, priced in every location.
pub(crate) fn seed_load_balancer_types(tx: &mut Tx) {
    let locations: Vec<LocationId> = tx.locations.all().map(|l| l.id).collect();
    for (name, max_connections, max_services, max_targets, max_assigned_certificates, hourly, monthly) in
        LOAD_BALANCER_TYPES
    {
        let id = LoadBalancerTypeId(tx.next_id());
        let prices = locations
            .iter()
            .map(|l| LocationPrice { location: *l, hourly: money(hourly), monthly: money(monthly) })
            .collect();
        tx.put(Record::LoadBalancerType(Arc::new(LoadBalancerType {
            id,
            name: name.into(),
            description: name.to_uppercase(),
            max_connections,
            max_services,
            max_targets,
            max_assigned_certificates,
            deprecated: None,
            included_traffic: 20 * 1024 * GB,
            prices,
        })));
    }
}
