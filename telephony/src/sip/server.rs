//! The SIP endpoint: binds the UDP socket, runs `rsipstack`'s transaction layer, registers with the
//! trunks, and dispatches each incoming transaction (new INVITEs to [`super::inbound`], in-dialog
//! requests to their dialog, OPTIONS answered here).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::endpoint::{EndpointInnerRef, EndpointOption};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio_util_token::CancellationToken;
use tracing::{Instrument, debug, info, info_span};

use super::access::Access;
use super::config::SipConfig;
use super::ports::PortPool;
use super::sdp::advertised;
use super::{SipError, random_u64, trunk};
use crate::call::{CallDeps, CallReport};
use crate::http::ReportSink;

/// The token rsipstack cancels its tasks with.
mod tokio_util_token {
    pub use rsipstack::platform::CancellationToken;
}

/// Methods we answer, for `Allow`.
pub(super) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE";

/// Counters of the SIP side, cumulative.
#[derive(Debug, Default)]
pub struct SipCounters {
    /// New INVITEs received.
    pub invites: AtomicU64,
    /// Calls answered (200 OK sent) or, outbound, answered by the far end.
    pub answered: AtomicU64,
    /// INVITEs refused at capacity.
    pub busy: AtomicU64,
    /// INVITEs for numbers no agent answers.
    pub not_found: AtomicU64,
    /// INVITEs refused for want of a common codec.
    pub no_codec: AtomicU64,
    /// INVITEs refused or challenged by access control.
    pub unauthorised: AtomicU64,
    /// Calls cancelled before answer.
    pub cancelled: AtomicU64,
    /// Calls that ran and ended.
    pub ended: AtomicU64,
    changed: tokio::sync::Notify,
}

impl SipCounters {
    /// Adds one to `counter` and wakes whoever waits on the counters.
    pub(super) fn bump(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Waits until `done` holds (checked at each change), for tests and tools that watch calls go by.
    pub async fn wait_until(&self, done: impl Fn(&Self) -> bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            changed.await;
        }
    }
}

/// What every call task shares.
pub(super) struct Shared {
    pub config: SipConfig,
    pub deps: Arc<CallDeps>,
    pub reports: Option<ReportSink>,
    pub endpoint: EndpointInnerRef,
    pub layer: Arc<DialogLayer>,
    pub ports: PortPool,
    pub access: Access,
    pub active: AtomicUsize,
    pub counters: SipCounters,
    /// Where SIP listens.
    pub local: SocketAddr,
    /// The address peers reach us at, for SDP and Contact.
    pub advertised: IpAddr,
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("local", &self.local)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Our Contact URI.
    pub fn contact(&self) -> rsipstack::sip::Uri {
        let text = format!(
            "sip:dialtone@{}",
            SocketAddr::new(self.advertised, self.local.port())
        );
        rsipstack::sip::Uri::try_from(text.as_str()).unwrap_or_default()
    }

    /// Takes a call slot, or `None` at capacity.
    pub fn take_slot(self: &Arc<Self>) -> Option<CallSlot> {
        let max = self.config.max_calls;
        let mut current = self.active.load(Ordering::Relaxed);
        loop {
            if current >= max {
                return None;
            }
            match self.active.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(CallSlot(Arc::clone(self))),
                Err(now) => current = now,
            }
        }
    }

    /// Hands a finished call's report on.
    pub fn report(&self, report: CallReport) {
        self.counters.bump(&self.counters.ended);
        if let Some(sink) = &self.reports {
            sink(report);
        }
    }
}

/// One of `max_calls`; given back on drop.
#[derive(Debug)]
pub(super) struct CallSlot(Arc<Shared>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running SIP endpoint. Cloning shares it; [`SipServer::shutdown`] stops it.
#[derive(Debug, Clone)]
pub struct SipServer {
    pub(super) shared: Arc<Shared>,
}

impl SipServer {
    /// Binds `config.listen` and starts answering calls with `deps`; finished calls go to `reports`.
    pub async fn start(
        config: SipConfig,
        deps: Arc<CallDeps>,
        reports: Option<ReportSink>,
    ) -> Result<Self, SipError> {
        config
            .check()
            .map_err(|e| SipError::Config(e.to_string()))?;
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let external = match (config.listen.ip().is_unspecified(), config.public_ip) {
            (_, Some(ip)) if config.listen.port() != 0 => {
                Some(SocketAddr::new(ip, config.listen.port()))
            }
            _ => None,
        };
        let connection =
            UdpConnection::create_connection(config.listen, external, Some(cancel.child_token()))
                .await
                .map_err(|e| SipError::Bind(format!("{}: {e}", config.listen)))?;
        let local: SocketAddr = connection
            .get_addr()
            .get_socketaddr()
            .map_err(|e| SipError::Bind(e.to_string()))?;
        transport.add_transport(connection.into());
        let endpoint = EndpointBuilder::new()
            .with_user_agent("Dialtone")
            .with_option(EndpointOption {
                // The stack's default names its authors' domain in every Call-ID.
                callid_suffix: Some("dialtone".into()),
                ..EndpointOption::default()
            })
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| SipError::Stack(e.to_string()))?;
        let inner = endpoint.inner.clone();
        tokio::spawn(async move { endpoint.serve().await });
        // Listening on 0.0.0.0, the transport reports an interface address, which peers can reach
        // (loopback only if there is no other).
        let advertised = advertised(local.ip(), config.public_ip);
        let media_ip = if config.listen.ip().is_unspecified() {
            config.listen.ip()
        } else {
            local.ip()
        };
        let trunk_ips = trunk::resolve_trunk_addresses(&config.trunks).await;
        let mut secret = [0u8; 32];
        for chunk in secret.chunks_mut(8) {
            chunk.copy_from_slice(&random_u64().to_le_bytes());
        }
        let shared = Arc::new(Shared {
            ports: PortPool::new(config.rtp_ports.clone(), media_ip),
            access: Access::new(&config, &trunk_ips, secret),
            layer: Arc::new(DialogLayer::new(inner.clone())),
            endpoint: inner,
            deps,
            reports,
            active: AtomicUsize::new(0),
            counters: SipCounters::default(),
            local,
            advertised,
            cancel,
            config,
        });
        tokio::spawn(dispatch(Arc::clone(&shared), incoming));
        trunk::register_all(&shared);
        info!(%local, %advertised, "SIP listening");
        Ok(Self { shared })
    }

    /// Where SIP listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// Calls running now.
    pub fn active_calls(&self) -> usize {
        self.shared.active.load(Ordering::Relaxed)
    }

    /// Counters since start.
    pub fn counters(&self) -> &SipCounters {
        &self.shared.counters
    }

    /// Stops listening; running calls end with their transport.
    pub fn shutdown(&self) {
        self.shared.cancel.cancel();
    }
}

async fn dispatch(shared: Arc<Shared>, mut incoming: rsipstack::transaction::TransactionReceiver) {
    while let Some(tx) = incoming.recv().await {
        let has_tag = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        match (&tx.original.method, has_tag) {
            (Method::Invite, false) => {
                let call_id = tx
                    .original
                    .call_id_header()
                    .map(|h| h.value().to_owned())
                    .unwrap_or_default();
                let span = info_span!("sip_call", %call_id, agent_id = tracing::field::Empty);
                tokio::spawn(super::inbound::handle(Arc::clone(&shared), tx).instrument(span));
            }
            (Method::Options, false) => {
                tokio::spawn(answer_options(tx));
            }
            _ => match shared.layer.match_dialog(&tx) {
                Some(mut dialog) => {
                    let mut tx = tx;
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            debug!(error = %e, "in-dialog request failed");
                        }
                    });
                }
                None => {
                    tokio::spawn(refuse(tx));
                }
            },
        }
    }
    debug!("SIP endpoint stopped");
}

/// OPTIONS outside a dialog: a keep-alive or capability probe from a trunk or a proxy's dispatcher.
async fn answer_options(mut tx: Transaction) {
    let headers = vec![
        Header::Allow(ALLOW.into()),
        Header::Accept("application/sdp".into()),
    ];
    if let Err(e) = tx.reply_with(StatusCode::OK, headers, None).await {
        debug!(error = %e, "OPTIONS reply failed");
    }
}

/// A request we have no dialog or use for.
async fn refuse(mut tx: Transaction) {
    let status = match tx.original.method {
        Method::Register | Method::Subscribe | Method::Publish | Method::Message => {
            StatusCode::MethodNotAllowed
        }
        Method::Ack => return,
        _ => StatusCode::CallTransactionDoesNotExist,
    };
    if let Err(e) = tx.reply(status).await {
        debug!(error = %e, "reply failed");
    }
}

/// How long an unanswered outbound call rings before we give up.
pub(super) const RING_TIMEOUT: Duration = Duration::from_secs(60);
