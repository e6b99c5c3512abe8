//! Trunks: REGISTER with each trunk's registrar (digest on 401/407, refreshed before it expires), and
//! the addresses of their registrars and proxies, whose INVITEs are taken as the trunk's.

use std::net::IpAddr;
use std::sync::Arc;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::Uri;
use tracing::{Instrument, info, info_span, warn};

use super::config::TrunkConfig;
use super::server::Shared;

/// Default registration lifetime asked for, seconds.
const DEFAULT_EXPIRES: u32 = 300;

/// The digest credential of a trunk, when it has one.
pub(super) fn credential(trunk: &TrunkConfig) -> Option<Credential> {
    Some(Credential {
        username: trunk.username.clone()?,
        password: trunk.password.clone()?,
        realm: None,
        auth_username: trunk.auth_username.clone(),
    })
}

/// A SIP URI from configuration, with `sip:` added when left out.
pub(super) fn parse_uri(text: &str) -> Option<Uri> {
    let text = if text.starts_with("sip:") || text.starts_with("sips:") {
        text.to_owned()
    } else {
        format!("sip:{text}")
    };
    Uri::try_from(text.as_str()).ok()
}

/// The IP addresses of each trunk's registrar, proxy and outbound proxy (names resolved once, at
/// start), as (trunk name, address).
pub(super) async fn resolve_trunk_addresses(trunks: &[TrunkConfig]) -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    for trunk in trunks {
        if let Some(proxy) = trunk.outbound_proxy {
            out.push((trunk.name.clone(), proxy.ip()));
        }
        for uri in [&trunk.registrar, &trunk.proxy].into_iter().flatten() {
            let Some(uri) = parse_uri(uri) else {
                continue;
            };
            let host = uri.host_with_port.host.to_string();
            let port = uri.host_with_port.port.map_or(5060, |p| p.value());
            match tokio::net::lookup_host((host.as_str(), port)).await {
                Ok(addrs) => out.extend(addrs.map(|a| (trunk.name.clone(), a.ip()))),
                Err(e) => warn!(trunk = %trunk.name, error = %e, "cannot resolve the trunk's host"),
            }
        }
    }
    out
}

/// Starts a registration task for every trunk with a registrar and credentials; each refreshes at 75%
/// of the granted lifetime and backs off when the registrar fails, until the server stops.
pub(super) fn register_all(shared: &Arc<Shared>) {
    for trunk in &shared.config.trunks {
        let Some(registrar) = trunk.registrar.as_deref() else {
            continue;
        };
        let Some(uri) = parse_uri(registrar) else {
            warn!(trunk = %trunk.name, "the registrar is not a SIP URI; not registering");
            continue;
        };
        let Some(credential) = credential(trunk) else {
            warn!(trunk = %trunk.name, "the trunk has no credentials; not registering");
            continue;
        };
        let mut registration = Registration::new(shared.endpoint.clone(), Some(credential));
        registration.outbound_proxy = trunk.outbound_proxy;
        let expires = trunk.register_expires.unwrap_or(DEFAULT_EXPIRES);
        let token = shared.cancel.child_token();
        let name = trunk.name.clone();
        let span = info_span!("sip_trunk", trunk = %name);
        tokio::spawn(
            async move {
                registration
                    .keep_alive(uri, expires, token, |outcome| match outcome {
                        RefreshOutcome::Registered(resp) => {
                            info!(status = %resp.status_code, "registered with the trunk");
                        }
                        RefreshOutcome::Rejected(resp) => {
                            warn!(status = %resp.status_code, "the trunk refused registration");
                        }
                        RefreshOutcome::Failed(e) => {
                            warn!(error = %e, "registration failed");
                        }
                    })
                    .await;
            }
            .instrument(span),
        );
    }
}
