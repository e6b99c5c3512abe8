//! `provision` (website -> live agent on its phone number) and `builder` (website and/or instructions ->
//! agent in the workspace, no number) jobs.
//!
//! Everything a finished job changes is written in one transaction: the agent (spec, status, number), its
//! first knowledge-base version, the events (`extraction.low_confidence`, `agent.activated`,
//! `operation.updated`) and the operation's completion. A worker killed before that commit leaves no trace
//! but progress; the next attempt starts over and writes the same once.

use dialtone_provisioning::template::template;
use dialtone_provisioning::{AgentSpec, ProvisionRequest};
use serde_json::{Value, json};
use tracing::info;

use super::knowledge::{chunks_value, content_hash};
use super::lease::{Job, JobError, emit_operation_updated};
use super::{BuilderJob, ProvisionJob};
use crate::directory::entry_for;
use crate::store::{Agent, AgentPatch, AgentStatus, NewAgent, OperationStage, StoreError, Tx};
use crate::webhooks::iso8601;

/// Progress when activation starts; the pipeline's own stages end at 85.
const ACTIVATE_PROGRESS: u8 = 95;

fn invalid_request(e: serde_json::Error) -> JobError {
    JobError::Refused {
        code: "invalid_request",
        message: format!("the job's request does not parse: {e}"),
    }
}

fn phone_in_use(e: StoreError) -> JobError {
    match e {
        StoreError::Conflict(_) => JobError::Refused {
            code: "phone_number_in_use",
            message: "the phone number is already bound to another active agent".to_owned(),
        },
        other => other.into(),
    }
}

/// The vertical an agent reports (`verticalType`): as requested, else the template's first vertical.
fn vertical_type(requested: Option<&str>, spec: &AgentSpec) -> Option<String> {
    requested
        .map(str::to_owned)
        .or_else(|| {
            template(&spec.template_id)
                .ok()
                .and_then(|t| t.verticals.first().map(|v| (*v).to_owned()))
        })
        .filter(|v| !v.is_empty())
}

/// The spec as stored on the agent: everything but the knowledge, which lives in versions.
fn stored_spec(spec: &AgentSpec) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("knowledge");
    }
    value
}

pub(crate) async fn run_provision(job: &Job) -> Result<(), JobError> {
    let request = ProvisionJob::from_value(&job.op.request).map_err(invalid_request)?;
    let existing = match &job.op.agent_id {
        Some(id) => Some(mark_provisioning(job, id).await?),
        None => None,
    };
    let pipeline = ProvisionRequest {
        url: request.business_url.clone(),
        vertical: request.template(),
        instructions: request.instructions.clone(),
        name: request
            .name
            .clone()
            .or_else(|| existing.as_ref().and_then(|a| a.name.clone())),
    };
    let spec = job.with_heartbeat(job.provision(&pipeline)).await??;
    job.stage(OperationStage::Activate, ACTIVATE_PROGRESS)
        .await?;

    let now = job.now_ms();
    let tenant = job.op.tenant_id.as_str();
    let vertical = existing
        .as_ref()
        .and_then(|a| a.vertical.clone())
        .or_else(|| vertical_type(request.vertical.as_deref(), &spec));
    let mut tx = job.ctx.store.begin().await?;
    let agent = match &existing {
        Some(current) => {
            let keep_or = |have: &Option<String>, want: Option<String>| match (have, want) {
                (_, Some(w)) if have.as_ref() != Some(&w) => Some(Some(w)),
                _ => None,
            };
            let patch = AgentPatch {
                status: Some(AgentStatus::Active),
                spec: Some(Some(stored_spec(&spec))),
                name: current.name.is_none().then(|| Some(spec.name.clone())),
                vertical: current.vertical.is_none().then(|| vertical.clone()),
                template_id: keep_or(&current.template_id, Some(spec.template_id.clone())),
                business_url: keep_or(&current.business_url, request.business_url.clone()),
                phone_number: keep_or(&current.phone_number, request.phone_number.clone()),
                white_label_id: keep_or(&current.white_label_id, request.white_label_id.clone()),
            };
            job.ctx
                .store
                .update_agent(&mut tx, tenant, &current.id, &patch, now)
                .await
                .map_err(phone_in_use)?
                .0
        }
        None => job
            .ctx
            .store
            .create_agent(
                &mut tx,
                tenant,
                NewAgent {
                    name: Some(spec.name.clone()),
                    status: Some(AgentStatus::Active),
                    vertical: vertical.clone(),
                    template_id: Some(spec.template_id.clone()),
                    business_url: request.business_url.clone(),
                    phone_number: request.phone_number.clone(),
                    white_label_id: request.white_label_id.clone(),
                    spec: Some(stored_spec(&spec)),
                },
                now,
            )
            .await
            .map_err(phone_in_use)?,
    };
    let provisioning_ms = (now - job.op.created_at).max(0);
    let result = json!({
        "agent_id": agent.id,
        "phone_number": agent.phone_number,
        "status": "active",
        "provisioning_time_seconds": provisioning_ms as f64 / 1000.0,
        "template_id": spec.template_id,
        "low_confidence": spec.report.low_confidence,
        "missing_facts": spec.report.missing_facts,
    });
    finish_activation(job, tx, agent, &spec, result, now).await
}

/// Moves the job's agent to `provisioning` (from pending, or failed on a retry after a failure) and
/// returns it. A deleted agent fails the job for good.
async fn mark_provisioning(job: &Job, agent_id: &str) -> Result<Agent, JobError> {
    let tenant = job.op.tenant_id.as_str();
    let agent = match job.ctx.store.agent(tenant, agent_id).await {
        Ok(agent) => agent,
        Err(StoreError::NotFound) => {
            return Err(JobError::Refused {
                code: "agent_not_found",
                message: "the agent was deleted before it was provisioned".to_owned(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    if !matches!(agent.status, AgentStatus::Pending | AgentStatus::Failed) {
        return Ok(agent);
    }
    let mut tx = job.ctx.store.begin().await?;
    let patch = AgentPatch {
        status: Some(AgentStatus::Provisioning),
        ..AgentPatch::default()
    };
    let (agent, _) = job
        .ctx
        .store
        .update_agent(&mut tx, tenant, agent_id, &patch, job.now_ms())
        .await?;
    tx.commit().await?;
    Ok(agent)
}

pub(crate) async fn run_builder(job: &Job) -> Result<(), JobError> {
    let request = BuilderJob::from_value(&job.op.request).map_err(invalid_request)?;
    let pipeline = ProvisionRequest {
        url: request.website_url.clone(),
        vertical: None,
        instructions: request.instructions.clone(),
        name: request.name.clone(),
    };
    let spec = job.with_heartbeat(job.provision(&pipeline)).await??;
    job.stage(OperationStage::Activate, ACTIVATE_PROGRESS)
        .await?;
    let now = job.now_ms();
    let mut tx = job.ctx.store.begin().await?;
    let agent = job
        .ctx
        .store
        .create_agent(
            &mut tx,
            &job.op.tenant_id,
            NewAgent {
                name: Some(spec.name.clone()),
                status: Some(AgentStatus::Active),
                vertical: vertical_type(None, &spec),
                template_id: Some(spec.template_id.clone()),
                business_url: request.website_url.clone(),
                phone_number: None,
                white_label_id: None,
                spec: Some(stored_spec(&spec)),
            },
            now,
        )
        .await?;
    let result = json!({
        "agent_id": agent.id,
        "name": agent.name,
        "template_id": spec.template_id,
        "greeting": spec.greeting,
        "tone": spec.tone,
        "missing_facts": spec.report.missing_facts,
    });
    finish_activation(job, tx, agent, &spec, result, now).await
}

/// The common end of both jobs: the first knowledge-base version, the events, the operation's
/// completion, and the commit, published to the call-side directory so the number answers as soon as
/// `agent.activated` is visible.
async fn finish_activation(
    job: &Job,
    mut tx: Tx,
    agent: Agent,
    spec: &AgentSpec,
    mut result: Value,
    now: i64,
) -> Result<(), JobError> {
    let store = &job.ctx.store;
    let tenant = job.op.tenant_id.as_str();
    let kb = store
        .create_kb_version(
            &mut tx,
            tenant,
            &agent.id,
            &chunks_value(&spec.knowledge),
            &content_hash(&spec.knowledge),
            now,
        )
        .await?;
    result["kb_version"] = json!(kb.version);
    result["kb_doc_count"] = json!(spec.knowledge.len());
    for field in &spec.report.low_confidence {
        let confidence = spec.report.provenance.get(field).map(|e| e.confidence);
        let data = json!({ "agent_id": agent.id, "field": field, "confidence": confidence });
        store
            .emit(
                &mut tx,
                tenant,
                "extraction.low_confidence",
                Some(&agent.id),
                &data,
                now,
            )
            .await?;
    }
    let activated = json!({
        "agent_id": agent.id,
        "phone_number": agent.phone_number,
        "status": "active",
        "verticalType": agent.vertical,
        "provisioned_at": iso8601(now),
        "operation_id": job.op.id,
    });
    store
        .emit(
            &mut tx,
            tenant,
            "agent.activated",
            Some(&agent.id),
            &activated,
            now,
        )
        .await?;
    let op = store
        .complete_operation(&mut tx, &job.lease(), &result, Some(&agent.id), now)
        .await?;
    emit_operation_updated(&job.ctx, &mut tx, &op, now).await?;
    // The agent row as committed: activation and the knowledge version both stamp `now`.
    let mut committed = agent.clone();
    committed.updated_at = now;
    committed.kb_version = kb.version;
    match (&job.directory, entry_for(&committed, Some(&kb))) {
        (Some(directory), Some(entry)) => directory.publish(entry, tx.commit()).await?,
        _ => tx.commit().await?,
    }
    job.ctx.events.notify_waiters();
    job.ctx.agents_changed.notify_waiters();
    info!(agent_id = %agent.id, kb_chunks = spec.knowledge.len(), "agent activated");
    Ok(())
}

/// After the last attempt failed: the agent is marked failed and `agent.provisioning_failed` says why.
pub(crate) async fn on_provision_failed(
    job: &Job,
    tx: &mut Tx,
    code: &str,
    message: &str,
) -> Result<(), StoreError> {
    let Some(agent_id) = job.op.agent_id.as_deref() else {
        return Ok(());
    };
    let tenant = job.op.tenant_id.as_str();
    let now = job.now_ms();
    let patch = AgentPatch {
        status: Some(AgentStatus::Failed),
        ..AgentPatch::default()
    };
    let agent = match job
        .ctx
        .store
        .update_agent(tx, tenant, agent_id, &patch, now)
        .await
    {
        Ok((agent, _)) => agent,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let data = json!({
        "agent_id": agent_id,
        "operation_id": job.op.id,
        "phone_number": agent.phone_number,
        "status": "failed",
        "error": { "code": code, "message": message },
    });
    job.ctx
        .store
        .emit(
            tx,
            tenant,
            "agent.provisioning_failed",
            Some(agent_id),
            &data,
            now,
        )
        .await
        .map(drop)
}
