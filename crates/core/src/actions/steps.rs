//! Pieces many kinds' steps share: changing one record in a transaction, and setting a
//! server's status with the prior one kept as the step's output for its undo.

use super::{Ctx, StepResult};
use crate::data::Tx;
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use serde_json::json;
use std::sync::Arc;

macro_rules! updaters {
    ($($fn_name:ident: $t:ty, $id:ty, $table:ident, $variant:ident;)*) => {$(
        /// Changes one record in the transaction; returns what `f` returns. A record that
        /// no longer exists is an error: the step cannot do what it was made for.
        pub(crate) fn $fn_name<R>(tx: &mut Tx, id: $id, f: impl FnOnce(&mut $t) -> R) -> Result<R, ActionError> {
            let current = tx.$table.get(id.0).ok_or_else(|| gone(id.as_ref()))?;
            let mut row = <$t>::clone(current);
            let out = f(&mut row);
            tx.put(Record::$variant(Arc::new(row)));
            Ok(out)
        }
    )*};
}

updaters! {
    update_server: Server, ServerId, servers, Server;
    update_ip: PublicIp, IpId, ips, Ip;
    update_image: Image, ImageId, images, Image;
    update_volume: Volume, VolumeId, volumes, Volume;
    update_network: Network, NetworkId, networks, Network;
    update_nic: Nic, NicId, nics, Nic;
    update_firewall: Firewall, FirewallId, firewalls, Firewall;
    update_load_balancer: LoadBalancer, LoadBalancerId, load_balancers, LoadBalancer;
    update_certificate: Certificate, CertificateId, certificates, Certificate;
}

/// The error of a step whose record has disappeared.
pub(crate) fn gone(resource: ResourceRef) -> ActionError {
    ActionError::new("not_found", format!("{resource} no longer exists"))
}

/// Sets a server's status; the output is the status it had, for the undo.
pub(crate) fn set_status(tx: &mut Tx, server: ServerId, to: ServerStatus) -> StepResult {
    let prior = update_server(tx, server, |s| std::mem::replace(&mut s.status, to))?;
    Ok(Some(json!(prior)))
}

/// Puts back the status that `step` (a [`set_status`] step) recorded.
pub(crate) fn restore_status<P>(tx: &mut Tx, server: ServerId, c: &Ctx<P>, step: &str) -> StepResult {
    if let Some(prior) = c.output::<ServerStatus>(step) {
        update_server(tx, server, |s| s.status = prior)?;
    }
    Ok(None)
}

/// Whether the server was running before `step` (a [`set_status`] step) changed its
/// status: undoing a stop starts it again only then.
pub(crate) fn was_running<P>(c: &Ctx<P>, step: &str) -> bool {
    c.output::<ServerStatus>(step).is_some_and(|s| s.believed_power() == Some(stratus_compute::PowerState::Running))
}
