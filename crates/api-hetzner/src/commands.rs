//! Hetzner's action `command` for each core action kind: the one place where this
//! dialect names the core's (neutral) kinds. Kinds Hetzner has no action for (removing a
//! deleted image's data) are hidden from this dialect's action lists.

/// (core kind, Hetzner command). A test checks that every core kind is here or in
/// [`HIDDEN`].
const COMMANDS: &[(&str, &str)] = &[
    ("server_create", "create_server"),
    ("server_delete", "delete_server"),
    ("server_power_on", "start_server"),
    ("server_power_off", "stop_server"),
    ("server_shutdown", "shutdown_server"),
    ("server_reboot", "reboot_server"),
    ("server_reset", "reset_server"),
    ("server_reset_password", "reset_password"),
    ("server_enable_rescue", "enable_rescue"),
    ("server_disable_rescue", "disable_rescue"),
    ("server_attach_iso", "attach_iso"),
    ("server_detach_iso", "detach_iso"),
    ("server_rebuild", "rebuild_server"),
    ("server_change_type", "change_server_type"),
    ("server_enable_backup", "enable_backup"),
    ("server_disable_backup", "disable_backup"),
    ("server_request_console", "request_console"),
    ("server_create_image", "create_image"),
    ("server_backup", "create_backup"),
    ("server_attach_to_network", "attach_to_network"),
    ("server_detach_from_network", "detach_from_network"),
    ("server_change_alias_ips", "change_alias_ips"),
    ("server_add_to_placement_group", "add_to_placement_group"),
    ("server_remove_from_placement_group", "remove_from_placement_group"),
    ("change_protection", "change_protection"),
    ("change_dns_ptr", "change_dns_ptr"),
    ("floating_ip_assign", "assign_floating_ip"),
    ("floating_ip_unassign", "unassign_floating_ip"),
    ("primary_ip_assign", "assign_primary_ip"),
    ("primary_ip_unassign", "unassign_primary_ip"),
    ("volume_create", "create_volume"),
    ("volume_attach", "attach_volume"),
    ("volume_detach", "detach_volume"),
    ("volume_resize", "resize_volume"),
    ("network_add_subnet", "add_subnet"),
    ("network_delete_subnet", "delete_subnet"),
    ("network_add_route", "add_route"),
    ("network_delete_route", "delete_route"),
    ("network_change_ip_range", "change_ip_range"),
    ("firewall_set_rules", "set_firewall_rules"),
    ("firewall_apply", "apply_firewall"),
    ("firewall_remove", "remove_firewall"),
    ("load_balancer_create", "create_load_balancer"),
    ("load_balancer_delete", "delete_load_balancer"),
    ("load_balancer_add_service", "add_service"),
    ("load_balancer_update_service", "update_service"),
    ("load_balancer_delete_service", "delete_service"),
    ("load_balancer_add_target", "add_target"),
    ("load_balancer_remove_target", "remove_target"),
    ("load_balancer_change_algorithm", "change_algorithm"),
    ("load_balancer_change_type", "change_load_balancer_type"),
    ("load_balancer_attach_to_network", "attach_to_network"),
    ("load_balancer_detach_from_network", "detach_from_network"),
    ("load_balancer_enable_public_interface", "enable_public_interface"),
    ("load_balancer_disable_public_interface", "disable_public_interface"),
    ("certificate_create", "create_certificate"),
    ("certificate_retry", "issue_certificate"),
];

/// Hetzner's command for a core kind, `None` for hidden kinds.
pub fn command(kind: &str) -> Option<&'static str> {
    COMMANDS.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c)
}

/// The core kinds this dialect shows, for action lists.
pub fn shown_kinds() -> Vec<&'static str> {
    COMMANDS.iter().map(|(k, _)| *k).collect()
}

/// The core kinds Hetzner calls `command` (several kinds share `change_protection`).
pub fn kinds_of(command: &str) -> Vec<&'static str> {
    COMMANDS.iter().filter(|(_, c)| *c == command).map(|(k, _)| *k).collect()
}

/// Every Hetzner command name, for messages.
pub fn all_commands() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = COMMANDS.iter().map(|(_, c)| *c).collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Core kinds that have no Hetzner action. Hetzner creates and deletes networks without
    /// one (`201` with the network, `204`), and deletes volumes without one.
    const HIDDEN: &[&str] = &["image_data_delete", "network_create", "network_delete", "volume_delete"];

    #[test]
    fn every_core_kind_has_a_command_or_is_hidden() {
        for (kind, _) in stratus_core::action_kinds() {
            assert!(command(kind).is_some() || HIDDEN.contains(&kind), "no Hetzner command for core kind {kind}");
        }
        for (kind, _) in COMMANDS {
            assert!(stratus_core::action_kinds().iter().any(|(k, _)| k == kind), "{kind} is not a core kind");
        }
    }
}
