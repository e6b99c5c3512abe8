//! Webhook delivery against a real receiver on loopback: down (connection refused), then failing (503),
//! then up; across a restart of the store and worker; a dead worker's claim; five failures; timeouts.
//! Retries come due on a virtual clock the test moves, and the worker is woken through `ctx.events`, so
//! nothing here sleeps.

#![allow(clippy::unwrap_used)]

mod jobs_support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use dialtone_api::store::{
    DeliveryOutcome, DeliveryStatus, NewWebhook, Webhook, delivery_backoff_ms,
};
use dialtone_api::webhooks::{
    Attempt, DEFAULT_TOLERANCE, WebhookConfig, WebhookWorker, verify_signature,
};
use dialtone_api::{ApiConfig, ApiContext};
use jobs_support::{Harness, PATIENCE, crawl_config};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};

/// One request the receiver saw.
#[derive(Debug, Clone)]
struct Hit {
    answered: u16,
    signature: String,
    event_header: String,
    delivery_header: String,
    body: Bytes,
}

/// A webhook receiver: answers every request with the status in `mode` (0: never answers).
struct Receiver {
    mode: Arc<AtomicU16>,
    hits: mpsc::UnboundedReceiver<Hit>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State((mode, hits)): State<(Arc<AtomicU16>, mpsc::UnboundedSender<Hit>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answered = mode.load(Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let _ = hits.send(Hit {
        answered,
        signature: header("dialtone-signature"),
        event_header: header("dialtone-event"),
        delivery_header: header("dialtone-delivery"),
        body,
    });
    if answered == 0 {
        std::future::pending::<()>().await;
    }
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    async fn start(addr: SocketAddr, status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let mode = Arc::new(AtomicU16::new(status));
        let (tx, hits) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state((Arc::clone(&mode), tx));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { mode, hits, task }
    }

    fn answer(&self, status: u16) {
        self.mode.store(status, Ordering::SeqCst);
    }

    /// Every request so far.
    fn drain(&mut self) -> Vec<Hit> {
        let mut out = Vec::new();
        while let Ok(hit) = self.hits.try_recv() {
            out.push(hit);
        }
        out
    }
}

/// A loopback address nobody listens on (yet): connections to it are refused.
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn config() -> ApiConfig {
    ApiConfig {
        crawl: crawl_config(),
        ..ApiConfig::default()
    }
}

fn worker_config() -> WebhookConfig {
    WebhookConfig {
        timeout: Duration::from_secs(5),
        batch: 32,
        // Only `ctx.events` drives the worker here; retries come due on the virtual clock.
        poll_interval: Duration::from_secs(3600),
    }
}

async fn subscribe_all(h: &Harness, addr: SocketAddr) -> Webhook {
    h.store
        .create_webhook(
            &h.tenant,
            &NewWebhook {
                url: format!("http://{addr}/hook"),
                events: vec!["*".into()],
                agent_id: None,
            },
            h.clock.now(),
        )
        .await
        .unwrap()
}

/// Commits events and wakes the worker; returns their ids.
async fn emit(h: &Harness, types: &[&str]) -> Vec<String> {
    let mut tx = h.store.begin().await.unwrap();
    let mut ids = Vec::new();
    for (i, event_type) in types.iter().enumerate() {
        let data = json!({ "n": i, "agent_id": "agt_x" });
        let event = h
            .store
            .emit(&mut tx, &h.tenant, event_type, None, &data, h.clock.now())
            .await
            .unwrap();
        ids.push(event.id);
    }
    tx.commit().await.unwrap();
    h.ctx.events.notify_waiters();
    ids
}

async fn next_attempts(attempts: &mut broadcast::Receiver<Attempt>, n: usize) -> Vec<Attempt> {
    let mut out = Vec::new();
    while out.len() < n {
        out.push(
            tokio::time::timeout(PATIENCE, attempts.recv())
                .await
                .expect("the attempt happens in time")
                .unwrap(),
        );
    }
    out
}

fn spawn_worker(
    ctx: &ApiContext,
) -> (
    WebhookWorker,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let worker = WebhookWorker::new(ctx.clone(), worker_config()).unwrap();
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(worker.clone().run(shutdown));
    (worker, stop, task)
}

/// Checks what a receiver accepted: each event exactly once, signed with the webhook's secret at the
/// virtual time of the attempt, in the documented envelope.
fn check_accepted(hits: &[Hit], webhook: &Webhook, events: &[String], now_ms: i64) {
    let accepted: Vec<&Hit> = hits.iter().filter(|h| h.answered == 200).collect();
    let ids: Vec<String> = accepted
        .iter()
        .map(|h| {
            let now = UNIX_EPOCH + Duration::from_millis(u64::try_from(now_ms).unwrap());
            verify_signature(
                &webhook.secret,
                &h.signature,
                &h.body,
                now,
                DEFAULT_TOLERANCE,
            )
            .expect("a valid signature");
            let envelope: Value = serde_json::from_slice(&h.body).unwrap();
            assert_eq!(envelope["webhook_id"], json!(webhook.id));
            assert_eq!(envelope["idempotency_key"], envelope["event_id"]);
            assert_eq!(envelope["event_type"], json!(h.event_header));
            assert!(h.delivery_header.starts_with("whd_"));
            assert!(envelope["created_at"].as_str().unwrap().ends_with('Z'));
            assert_eq!(envelope["data"]["agent_id"], json!("agt_x"));
            envelope["event_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), events.len(), "each event is accepted once");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique, events.iter().collect::<HashSet<_>>());
}

async fn a_receiver_down_then_failing_then_up_gets_every_event_once(h: Harness) {
    let addr = free_addr();
    let webhook = subscribe_all(&h, addr).await;
    let (worker, stop, task) = spawn_worker(&h.ctx);
    let mut attempts = worker.subscribe();

    let events = emit(&h, &["agent.activated", "call.completed", "kb.synced"]).await;
    for a in next_attempts(&mut attempts, 3).await {
        assert!(
            matches!(a.outcome, DeliveryOutcome::Failed { status: None, .. }),
            "{a:?}"
        );
        assert_eq!((a.status, a.attempts), (DeliveryStatus::Pending, 1));
    }

    // Half a minute later the receiver answers, but with 503.
    let mut receiver = Receiver::start(addr, 503).await;
    h.clock.advance(delivery_backoff_ms(1));
    h.ctx.events.notify_waiters();
    for a in next_attempts(&mut attempts, 3).await {
        assert_eq!(
            a.outcome,
            DeliveryOutcome::Failed {
                status: Some(503),
                error: "receiver answered 503 Service Unavailable".into()
            }
        );
        assert_eq!((a.status, a.attempts), (DeliveryStatus::Pending, 2));
    }

    // Nothing is due before the next backoff has passed.
    h.clock.advance(delivery_backoff_ms(2) - 1);
    assert_eq!(worker.deliver_due().await.unwrap(), 0);
    receiver.answer(200);
    h.clock.advance(1);
    h.ctx.events.notify_waiters();
    for a in next_attempts(&mut attempts, 3).await {
        assert_eq!(a.outcome, DeliveryOutcome::Delivered { status: 200 });
        assert_eq!((a.status, a.attempts), (DeliveryStatus::Delivered, 3));
    }
    let hits = receiver.drain();
    assert_eq!(hits.len(), 6, "three 503s, three accepted");
    check_accepted(&hits, &webhook, &events, h.clock.now());

    // Delivered rows are never sent again.
    h.clock.advance(24 * 3600 * 1000);
    assert_eq!(worker.deliver_due().await.unwrap(), 0);
    let log = h
        .store
        .list_deliveries(&h.tenant, &webhook.id, 10)
        .await
        .unwrap();
    assert!(
        log.iter()
            .all(|d| d.status == DeliveryStatus::Delivered && d.last_status == Some(200))
    );

    stop.send(true).unwrap();
    task.await.unwrap();
    h.finish().await;
}

async fn deliveries_survive_a_restart(first: Harness) {
    let addr = free_addr();
    let webhook = subscribe_all(&first, addr).await;
    let (worker, stop, task) = spawn_worker(&first.ctx);
    let mut attempts = worker.subscribe();
    let mut events = emit(&first, &["agent.activated", "call.completed"]).await;
    next_attempts(&mut attempts, 2).await;
    // Another event is committed while the worker is gone: only the outbox knows of it.
    stop.send(true).unwrap();
    task.await.unwrap();
    events.extend(emit(&first, &["call.transcript_ready"]).await);
    let later = first.clock.now() + delivery_backoff_ms(1);
    let tenant = first.tenant.clone();

    // The same database, a new store and worker, half a minute on, with the receiver up.
    let second = first.restart(later).await;
    assert_eq!(second.tenant, tenant);
    let mut receiver = Receiver::start(addr, 200).await;
    let (worker, stop, task) = spawn_worker(&second.ctx);
    let mut attempts = worker.subscribe();
    second.ctx.events.notify_waiters();
    let mut done = next_attempts(&mut attempts, 3).await;
    done.sort_by_key(|a| a.attempts);
    assert!(done.iter().all(|a| a.status == DeliveryStatus::Delivered));
    assert_eq!(
        done.iter().map(|a| a.attempts).collect::<Vec<_>>(),
        [1, 2, 2],
        "the two that failed before the restart are on their second attempt"
    );
    check_accepted(&receiver.drain(), &webhook, &events, second.clock.now());
    stop.send(true).unwrap();
    task.await.unwrap();
    second.finish().await;
}

async fn a_delivery_claimed_by_a_dead_worker_is_sent_when_its_lease_ends(h: Harness) {
    let addr = free_addr();
    let mut receiver = Receiver::start(addr, 200).await;
    let webhook = subscribe_all(&h, addr).await;
    let events = emit(&h, &["agent.activated"]).await;
    // A worker claims it and dies before sending.
    let claimed = h
        .store
        .claim_deliveries(10, 60_000, h.clock.now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let worker = WebhookWorker::new(h.ctx.clone(), worker_config()).unwrap();
    assert_eq!(
        worker.deliver_due().await.unwrap(),
        0,
        "leased to the dead worker"
    );
    h.clock.advance(60_001);
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    check_accepted(&receiver.drain(), &webhook, &events, h.clock.now());
    let log = h
        .store
        .list_deliveries(&h.tenant, &webhook.id, 10)
        .await
        .unwrap();
    assert_eq!(
        (log[0].status, log[0].attempts),
        (DeliveryStatus::Delivered, 2)
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_attempts_fail_the_delivery_for_good() {
    let h = Harness::with_config(config()).await;
    let addr = free_addr();
    let mut receiver = Receiver::start(addr, 500).await;
    let webhook = subscribe_all(&h, addr).await;
    emit(&h, &["agent.activated"]).await;
    let worker = WebhookWorker::new(h.ctx.clone(), worker_config()).unwrap();
    let mut attempts = worker.subscribe();
    for n in 1..=5 {
        assert_eq!(worker.deliver_due().await.unwrap(), 1, "attempt {n}");
        let a = next_attempts(&mut attempts, 1).await.remove(0);
        assert_eq!(a.attempts, n);
        let expected = if n < 5 {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Failed
        };
        assert_eq!(a.status, expected);
        h.clock.advance(delivery_backoff_ms(n));
    }
    h.clock.advance(7 * 24 * 3600 * 1000);
    assert_eq!(worker.deliver_due().await.unwrap(), 0);
    assert_eq!(receiver.drain().len(), 5);
    let log = h
        .store
        .list_deliveries(&h.tenant, &webhook.id, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Failed);
    assert_eq!(log[0].attempts, 5);
    assert_eq!(log[0].last_status, Some(500));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_times_out() {
    let h = Harness::with_config(config()).await;
    let addr = free_addr();
    let receiver = Receiver::start(addr, 0).await;
    subscribe_all(&h, addr).await;
    emit(&h, &["agent.activated"]).await;
    let worker = WebhookWorker::new(
        h.ctx.clone(),
        WebhookConfig {
            timeout: Duration::from_millis(300),
            ..worker_config()
        },
    )
    .unwrap();
    let mut attempts = worker.subscribe();
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let a = next_attempts(&mut attempts, 1).await.remove(0);
    assert_eq!(
        a.outcome,
        DeliveryOutcome::Failed {
            status: None,
            error: "timed out".into()
        }
    );
    assert_eq!(a.status, DeliveryStatus::Pending);
    drop(receiver);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_receivers_need_the_allow_list() {
    // The default policy: public addresses only.
    let h = Harness::with_config(ApiConfig::default()).await;
    let addr = free_addr();
    let mut receiver = Receiver::start(addr, 200).await;
    subscribe_all(&h, addr).await;
    emit(&h, &["agent.activated"]).await;
    let worker = WebhookWorker::new(h.ctx.clone(), worker_config()).unwrap();
    let mut attempts = worker.subscribe();
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let a = next_attempts(&mut attempts, 1).await.remove(0);
    assert!(matches!(
        a.outcome,
        DeliveryOutcome::Failed { status: None, .. }
    ));
    assert!(
        receiver.drain().is_empty(),
        "nothing reached the private address"
    );
    h.finish().await;
}

on_both_backends!(
    a_receiver_down_then_failing_then_up_gets_every_event_once,
    deliveries_survive_a_restart,
    a_delivery_claimed_by_a_dead_worker_is_sent_when_its_lease_ends,
);
