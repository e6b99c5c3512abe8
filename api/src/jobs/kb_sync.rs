//! `kb_sync` jobs, and the monitor that queues one per active agent with a website every interval.
//!
//! A sync re-reads the agent's site with the same pipeline that provisioned it (same template and
//! instructions, so the chunks are comparable), applies again every approved proposal (in the order they
//! were approved; one whose chunk the site no longer has is left out, since the site moved on), hashes
//! the knowledge and compares it with the newest version. Changed: a new version and `kb.synced`
//! `{agent_id, version, added, removed, doc_count, proposals_applied}`. Unchanged: the job completes with
//! `changed: false` and writes no version.

use std::time::Duration;

use dialtone_provisioning::ProvisionRequest;
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::knowledge::{StaleProposal, apply_proposal, chunks_value, diff, stored_content_hash};
use super::lease::{Job, JobError, emit_operation_updated};
use crate::ApiContext;
use crate::store::{KbProposalStatus, NewOperation, OperationKind, OperationStatus, StoreError};

fn chunk_list(chunks: Value) -> Vec<Value> {
    match chunks {
        Value::Array(list) => list,
        _ => Vec::new(),
    }
}

/// Attempts a monitor-queued sync gets.
const SYNC_ATTEMPTS: u32 = 3;

pub(crate) async fn run_kb_sync(job: &Job) -> Result<(), JobError> {
    let tenant = job.op.tenant_id.as_str();
    let Some(agent_id) = job.op.agent_id.as_deref() else {
        return Err(JobError::Refused {
            code: "invalid_request",
            message: "a knowledge sync names its agent".to_owned(),
        });
    };
    let agent = match job.ctx.store.agent(tenant, agent_id).await {
        Ok(agent) => agent,
        Err(StoreError::NotFound) => {
            return Err(JobError::Refused {
                code: "agent_not_found",
                message: "the agent was deleted".to_owned(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let spec = agent.spec.clone().unwrap_or(Value::Null);
    let text = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(website) = agent.business_url.clone().or_else(|| text("website")) else {
        return Err(JobError::Refused {
            code: "nothing_to_sync",
            message: "the agent has no website to re-read".to_owned(),
        });
    };
    let request = ProvisionRequest {
        url: Some(website),
        vertical: agent.template_id.clone().or_else(|| text("template_id")),
        instructions: text("instructions"),
        name: agent.name.clone(),
    };
    let fresh = job.with_heartbeat(job.provision(&request)).await??;
    let mut approved = job
        .ctx
        .store
        .list_kb_proposals(tenant, agent_id, Some(KbProposalStatus::Approved))
        .await?;
    approved.sort_by_key(|p| (p.decided_at, p.created_at));
    let mut chunks = chunk_list(chunks_value(&fresh.knowledge));
    let mut applied = 0;
    for proposal in &approved {
        match apply_proposal(&proposal.change, chunks.clone(), None) {
            Ok(next) => {
                chunks = next;
                applied += 1;
            }
            Err(StaleProposal) => {
                debug!(proposal = %proposal.id, "approved proposal no longer applies to the site")
            }
        }
    }
    let chunks = Value::Array(chunks);
    let hash = stored_content_hash(&chunks);
    let latest = job.ctx.store.latest_kb_version(tenant, agent_id).await?;
    let now = job.now_ms();
    let mut tx = job.ctx.store.begin().await?;
    let changed = latest.as_ref().is_none_or(|v| v.content_hash != hash);
    let result = if changed {
        let (added, removed) = diff(latest.as_ref().map_or(&Value::Null, |v| &v.chunks), &chunks);
        let version = job
            .ctx
            .store
            .create_kb_version(&mut tx, tenant, agent_id, &chunks, &hash, now)
            .await?;
        let data = json!({
            "agent_id": agent_id,
            "version": version.version,
            "added": added,
            "removed": removed,
            "doc_count": chunks.as_array().map_or(0, Vec::len),
            "proposals_applied": applied,
        });
        job.ctx
            .store
            .emit(&mut tx, tenant, "kb.synced", Some(agent_id), &data, now)
            .await?;
        info!(
            version = version.version,
            added, removed, "knowledge base updated"
        );
        json!({ "agent_id": agent_id, "changed": true, "version": version.version,
                "added": added, "removed": removed })
    } else {
        debug!("knowledge base unchanged");
        json!({ "agent_id": agent_id, "changed": false,
                "version": latest.as_ref().map(|v| v.version) })
    };
    let op = job
        .ctx
        .store
        .complete_operation(&mut tx, &job.lease(), &result, None, now)
        .await?;
    emit_operation_updated(&job.ctx, &mut tx, &op, now).await?;
    tx.commit().await?;
    job.ctx.events.notify_waiters();
    if changed {
        // The directory rebuilds the agent's documents from the new version.
        job.ctx.agents_changed.notify_waiters();
    }
    Ok(())
}

/// Queues a sync for every active agent with a website whose last sync (or activation) is at least
/// `kb_monitor_interval` old and that has none waiting or running. Returns how many were queued.
pub async fn enqueue_due_kb_syncs(ctx: &ApiContext) -> Result<usize, StoreError> {
    let interval = i64::try_from(ctx.config.kb_monitor_interval.as_millis()).unwrap_or(i64::MAX);
    let now = ctx.now_ms();
    let mut queued = 0;
    for agent in ctx.store.live_agents().await? {
        if agent.business_url.is_none() {
            continue;
        }
        let last = ctx
            .store
            .latest_operation(&agent.tenant_id, &agent.id, OperationKind::KbSync)
            .await?;
        let since = match last {
            Some((OperationStatus::Pending | OperationStatus::Running, _)) => continue,
            Some((_, created_at)) => created_at.max(agent.activated_at.unwrap_or(0)),
            None => agent.activated_at.unwrap_or(agent.updated_at),
        };
        if now.saturating_sub(since) < interval {
            continue;
        }
        let mut tx = ctx.store.begin().await?;
        let created = ctx
            .store
            .create_operation(
                &mut tx,
                &agent.tenant_id,
                NewOperation {
                    kind: OperationKind::KbSync,
                    agent_id: Some(agent.id.clone()),
                    request: json!({ "trigger": "monitor" }),
                    max_attempts: SYNC_ATTEMPTS,
                },
                now,
            )
            .await;
        match created {
            Ok(_) => {
                tx.commit().await?;
                queued += 1;
            }
            Err(StoreError::NotFound) => {} // deleted since the listing
            Err(e) => return Err(e),
        }
    }
    Ok(queued)
}

/// Runs the monitor until `shutdown` turns true. It looks every twenty-fourth of the interval (between a
/// second and an hour), so a restart delays no sync by more than that, and the due rule, not the timer,
/// keeps each agent to one sync per interval.
pub async fn run_monitor(ctx: ApiContext, mut shutdown: watch::Receiver<bool>) {
    let tick = (ctx.config.kb_monitor_interval / 24)
        .clamp(Duration::from_secs(1), Duration::from_secs(3600));
    loop {
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        match enqueue_due_kb_syncs(&ctx).await {
            Ok(0) => {}
            Ok(n) => {
                info!(queued = n, "knowledge syncs queued");
                // Wakes the job dispatcher, which also listens for events.
                ctx.events.notify_waiters();
            }
            Err(e) => warn!(error = ?e, "knowledge monitor could not queue syncs"),
        }
    }
}
