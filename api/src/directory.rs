//! The agent directory telephony reads: every active agent of the store, layered over the file agents
//! (`agents/*.toml`) so an install's demo agent keeps answering.
//!
//! Telephony looks agents up synchronously on every call start, so lookups read an in-memory snapshot and
//! never touch the database. The snapshot is rebuilt from the store at start-up, whenever `agents_changed`
//! is signalled, and every few seconds regardless: on PostgreSQL other nodes change agents too, and this
//! node hears of it only through the periodic look. A rebuild reads one light row per active agent and
//! loads in full only the agents whose `updated_at` moved (knowledge versions move it too).
//!
//! Activation publishes the new agent into the snapshot *before* its transaction commits (see
//! [`StoreDirectory::publish`]), while holding off rebuilds: by the time `agent.activated` exists for
//! anyone to see, a call to the number already finds the agent. Another node learns of it within one
//! refresh interval.

mod calls;

use calls::CallNotice;
pub use calls::{CallRecorder, StartedRow, call_disposition, call_extractions};

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use dialtone_telephony::agent::AgentProfile;
use dialtone_telephony::call::{AgentDirectory, CallProgress, Role, StartedCall};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, watch};
use tracing::{debug, warn};

use crate::ApiContext;
use crate::store::{Agent, KbVersion, StoreError};

/// How often the snapshot is rebuilt without a signal.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// One store agent in the snapshot.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    /// What calls get.
    pub profile: Arc<AgentProfile>,
    /// Its tenant, for the call log.
    pub tenant_id: String,
    /// The row's `updated_at` the profile was built from.
    pub updated_at: i64,
}

#[derive(Debug, Default)]
struct Snapshot {
    by_id: HashMap<String, DirectoryEntry>,
    by_number: HashMap<String, String>,
}

impl Snapshot {
    fn insert(&mut self, entry: DirectoryEntry) -> Option<DirectoryEntry> {
        let old = self.remove(&entry.profile.id);
        for number in &entry.profile.phone_numbers {
            self.by_number
                .insert(number.clone(), entry.profile.id.clone());
        }
        self.by_id.insert(entry.profile.id.clone(), entry);
        old
    }

    fn remove(&mut self, id: &str) -> Option<DirectoryEntry> {
        let old = self.by_id.remove(id)?;
        for number in &old.profile.phone_numbers {
            if self.by_number.get(number).is_some_and(|owner| owner == id) {
                self.by_number.remove(number);
            }
        }
        Some(old)
    }
}

/// Store agents over file agents. Share it as `Arc<StoreDirectory>`; it is telephony's
/// `Arc<dyn AgentDirectory>` as well.
pub struct StoreDirectory {
    ctx: ApiContext,
    files: Arc<dyn AgentDirectory>,
    snapshot: RwLock<Snapshot>,
    /// Held by a rebuild and by a publish, so a rebuild that read the store before an activation
    /// committed never drops the agent that activation just published.
    writer: Mutex<()>,
    /// Counts finished rebuilds, for whoever needs to know one happened (tests, health checks).
    rebuilds: watch::Sender<u64>,
    /// Where calls' starts go: the call recorder's queue, once one is attached. Weak, so the recorder
    /// still ends once its sinks are gone.
    call_log: OnceLock<mpsc::WeakUnboundedSender<CallNotice>>,
}

impl std::fmt::Debug for StoreDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreDirectory")
            .field("files", &self.files)
            .field("store_agents", &self.read().by_id.len())
            .finish_non_exhaustive()
    }
}

impl StoreDirectory {
    /// An empty directory over `files`; call [`refresh`](Self::refresh) to load the store's agents.
    pub fn new(ctx: ApiContext, files: Arc<dyn AgentDirectory>) -> Self {
        Self {
            ctx,
            files,
            snapshot: RwLock::new(Snapshot::default()),
            writer: Mutex::new(()),
            rebuilds: watch::channel(0).0,
            call_log: OnceLock::new(),
        }
    }

    /// Sends the starts of store agents' calls to the recorder's queue (the first attached wins).
    pub(crate) fn attach_call_log(&self, queue: &mpsc::UnboundedSender<CallNotice>) {
        let _ = self.call_log.set(queue.downgrade());
    }

    /// A directory over `files` with the store's active agents loaded.
    pub async fn load(
        ctx: ApiContext,
        files: Arc<dyn AgentDirectory>,
    ) -> Result<Arc<Self>, StoreError> {
        let directory = Arc::new(Self::new(ctx, files));
        directory.refresh().await?;
        Ok(directory)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        // A panic while holding the lock leaves a snapshot that is still whole (swaps are single
        // assignments), so a poisoned lock is used as it is.
        self.snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Snapshot> {
        self.snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store agent `agent_id` as the directory holds it (`None` for file agents).
    pub fn entry(&self, agent_id: &str) -> Option<DirectoryEntry> {
        self.read().by_id.get(agent_id).cloned()
    }

    /// The number of rebuilds so far, changing after each.
    pub fn rebuilds(&self) -> watch::Receiver<u64> {
        self.rebuilds.subscribe()
    }

    /// How many store agents the snapshot holds.
    pub fn store_agents(&self) -> usize {
        self.read().by_id.len()
    }

    /// Rebuilds the snapshot from the store, reusing the profiles of agents that did not change.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let live = self.ctx.store.live_agents().await?;
        let known: HashMap<String, DirectoryEntry> = self.read().by_id.clone();
        let mut next = Snapshot::default();
        for agent in live {
            if let Some(entry) = known.get(&agent.id)
                && entry.updated_at == agent.updated_at
                && entry.tenant_id == agent.tenant_id
            {
                next.insert(entry.clone());
                continue;
            }
            match self.load_entry(&agent.tenant_id, &agent.id).await {
                Ok(Some(entry)) => {
                    next.insert(entry);
                }
                Ok(None) => {}
                Err(StoreError::NotFound) => {} // deleted since the listing
                Err(e) => {
                    // Keep what calls had rather than dropping an agent over one failed read.
                    warn!(agent_id = %agent.id, error = ?e, "cannot load an agent for the directory");
                    if let Some(entry) = known.get(&agent.id) {
                        next.insert(entry.clone());
                    }
                }
            }
        }
        debug!(agents = next.by_id.len(), "agent directory refreshed");
        *self.write() = next;
        self.rebuilds.send_modify(|n| *n += 1);
        Ok(())
    }

    async fn load_entry(
        &self,
        tenant_id: &str,
        agent_id: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let agent = self.ctx.store.agent(tenant_id, agent_id).await?;
        let kb = self
            .ctx
            .store
            .latest_kb_version(tenant_id, agent_id)
            .await?;
        Ok(entry_for(&agent, kb.as_ref()))
    }

    /// Puts `entry` in the snapshot, runs `commit` (the transaction that makes the agent active in the
    /// store, with its `agent.activated` event), and takes the entry out again if the commit fails. No
    /// rebuild runs in between, so the entry cannot be dropped by a rebuild that read the store before the
    /// commit; rebuilds after it find the agent in the store.
    pub async fn publish<T, E, F>(&self, entry: DirectoryEntry, commit: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let _writer = self.writer.lock().await;
        let id = entry.profile.id.clone();
        let previous = self.write().insert(entry);
        let result = commit.await;
        if result.is_err() {
            let mut snapshot = self.write();
            snapshot.remove(&id);
            if let Some(previous) = previous {
                snapshot.insert(previous);
            }
        }
        result
    }

    /// Keeps the snapshot fresh until `shutdown` turns true: rebuilds at once, then on `agents_changed`
    /// and every `interval`.
    pub async fn run(self: Arc<Self>, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        let changed = Arc::clone(&self.ctx.agents_changed);
        loop {
            // Registered before the rebuild, so a change committed during it causes another.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Err(e) = self.refresh().await {
                warn!(error = ?e, "cannot refresh the agent directory");
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
    }
}

impl AgentDirectory for StoreDirectory {
    fn by_number(&self, number: &str) -> Option<Arc<AgentProfile>> {
        let found = {
            let snapshot = self.read();
            snapshot
                .by_number
                .get(number)
                .and_then(|id| snapshot.by_id.get(id))
                .map(|e| Arc::clone(&e.profile))
        };
        found.or_else(|| self.files.by_number(number))
    }

    fn by_id(&self, id: &str) -> Option<Arc<AgentProfile>> {
        let found = self.read().by_id.get(id).map(|e| Arc::clone(&e.profile));
        found.or_else(|| self.files.by_id(id))
    }

    fn call_started(&self, agent: &AgentProfile, call: &StartedCall) {
        // File agents belong to no tenant: their calls are neither logged nor followed.
        let Some(tenant_id) = self
            .read()
            .by_id
            .get(&agent.id)
            .map(|e| e.tenant_id.clone())
        else {
            return;
        };
        let Some(queue) = self
            .call_log
            .get()
            .and_then(mpsc::WeakUnboundedSender::upgrade)
        else {
            return;
        };
        // The row's id is chosen now, so the call can be followed by it before the row is written.
        let row_id = crate::store::new_call_id();
        self.ctx.live.start(&tenant_id, &call.call_id, &row_id);
        let _ = queue.send(CallNotice::Started {
            agent_id: agent.id.clone(),
            call: call.clone(),
            row_id,
        });
    }

    fn call_progress(&self, call_id: &str, progress: CallProgress<'_>) {
        match progress {
            CallProgress::Said(entry) => {
                let role = match entry.role {
                    Role::Caller => "caller",
                    Role::Agent => "agent",
                };
                self.ctx
                    .live
                    .said(call_id, role, &entry.text, entry.interrupted);
            }
            CallProgress::Turn { number, latency } => {
                let latency = serde_json::to_value(latency).unwrap_or(Value::Null);
                self.ctx.live.turn(call_id, number, &latency);
            }
        }
    }
}

/// The directory entry of an active store agent, or `None` if it is not active. Built through JSON so a
/// field telephony adds to its profile (with a default) needs nothing here; facts and knowledge chunks
/// have the same JSON shape on both sides.
pub fn entry_for(agent: &Agent, kb: Option<&KbVersion>) -> Option<DirectoryEntry> {
    if agent.status != crate::store::AgentStatus::Active || agent.deleted_at.is_some() {
        return None;
    }
    let spec = agent.spec.as_ref().unwrap_or(&Value::Null);
    let name = agent
        .name
        .clone()
        .or_else(|| spec.get("name").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "Receptionist".to_owned());
    let documents: Vec<Value> = kb
        .and_then(|kb| kb.chunks.as_array())
        .map(|chunks| {
            chunks
                .iter()
                .filter(|c| c.get("text").is_some_and(Value::is_string))
                .map(|c| {
                    json!({
                        "title": c.get("title").and_then(Value::as_str).unwrap_or_default(),
                        "text": c.get("text"),
                        "source": c.get("source").filter(|s| s.is_string()),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let base = json!({
        "id": agent.id,
        "name": name,
        "greeting": spec.get("greeting").filter(|g| g.is_string()),
        "phone_numbers": agent.phone_number.iter().collect::<Vec<_>>(),
        "system_prompt": spec.get("system_prompt").filter(|p| p.is_string()),
        "documents": documents,
    });
    let mut profile: AgentProfile = match serde_json::from_value(base.clone()) {
        Ok(p) => p,
        Err(e) => {
            warn!(agent_id = %agent.id, error = %e, "stored agent does not make a profile");
            return None;
        }
    };
    if let Some(facts) = spec.get("facts") {
        match serde_json::from_value(facts.clone()) {
            Ok(facts) => profile.facts = facts,
            // An agent without facts still answers (and takes messages); one with facts telephony cannot
            // read would otherwise not answer at all.
            Err(e) => warn!(agent_id = %agent.id, error = %e, "ignoring stored facts"),
        }
    }
    Some(DirectoryEntry {
        profile: Arc::new(profile),
        tenant_id: agent.tenant_id.clone(),
        updated_at: agent.updated_at,
    })
}
