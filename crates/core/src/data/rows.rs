//! What each record tells the indexes: its key, project, name, labels and the resources
//! it points at. A row's links are the relations other queries walk backwards (a
//! volume points at its server, so "the volumes of server 7" is an index lookup).

use super::table::Row;
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;

macro_rules! row {
    ($t:ty, project: |$p:ident| $project:expr, name: |$n:ident| $name:expr, labels: |$l:ident| $labels:expr, links: |$s:ident, $out:ident| $links:block $(, class: |$c:ident| $class:expr)?) => {
        #[allow(unused_variables)]
        impl Row for $t {
            fn key(&self) -> ResourceRef {
                self.id.as_ref()
            }
            fn project(&self) -> Option<ProjectId> {
                let $p = self;
                $project
            }
            fn name(&self) -> Option<&str> {
                let $n = self;
                $name
            }
            fn labels(&self) -> Option<&Labels> {
                let $l = self;
                $labels
            }
            fn links(&self, $out: &mut Vec<ResourceRef>) {
                let $s = self;
                $links
            }
            $(const CLASSED: bool = true;
            fn class(&self) -> u8 {
                let $c = self;
                $class
            })?
        }
    };
}

row!(Project, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(Token, project: |r| Some(r.project), name: |r| None, labels: |r| None, links: |r, out| {});
row!(User, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(Session, project: |r| Some(r.project), name: |r| None, labels: |r| None, links: |r, out| {
    out.push(r.user.as_ref());
});
row!(ApiKey, project: |r| Some(r.project), name: |r| None, labels: |r| None, links: |r, out| {
    if let Some(user) = r.user {
        out.push(user.as_ref());
    }
});
row!(Server, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {
    if let Some(group) = r.placement_group {
        out.push(group.as_ref());
    }
});
row!(Action, project: |r| Some(r.project), name: |r| None, labels: |r| None, links: |r, out| {
    out.extend(r.concerns());
});
row!(SshKey, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {});
row!(PublicIp, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {
    if let Some(a) = r.assignee {
        out.push(a.as_ref());
    }
}, class: |r| r.role as u8);
row!(Image, project: |r| r.project, name: |r| r.name.as_deref(), labels: |r| Some(&r.labels), links: |r, out| {
    if let Some(server) = r.bound_to {
        out.push(server.as_ref());
    }
});
row!(Iso, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(Location, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(Datacenter, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(ServerType, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(Fault, project: |r| None, name: |r| None, labels: |r| None, links: |r, out| {});
row!(Volume, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {
    if let Some(server) = r.server {
        out.push(server.as_ref());
    }
});
row!(Network, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {});
row!(Nic, project: |r| Some(r.project), name: |r| None, labels: |r| None, links: |r, out| {
    out.push(r.owner.as_ref());
    if let Some(network) = r.network {
        out.push(network.as_ref());
    }
});
row!(Firewall, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {
    for target in &r.applied_to {
        if let FirewallTarget::Server(server) = target {
            out.push(server.as_ref());
        }
    }
});
row!(LoadBalancer, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {
    for target in &r.targets {
        if let LbTargetKind::Server(server) = target.kind {
            out.push(server.as_ref());
        }
    }
    for service in &r.services {
        if let Some(http) = &service.http {
            out.extend(http.certificates.iter().map(|c| c.as_ref()));
        }
    }
});
row!(LoadBalancerType, project: |r| None, name: |r| Some(&r.name), labels: |r| None, links: |r, out| {});
row!(PlacementGroup, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {});
row!(Certificate, project: |r| Some(r.project), name: |r| Some(&r.name), labels: |r| Some(&r.labels), links: |r, out| {});
