-- The REST API v2 store, SQLite flavour. Keep it in step with ../postgres/0001_store.sql: the two differ
-- only where the dialects must (the events sequence). Times are unix milliseconds, JSON is TEXT, ids are
-- prefixed random text.

-- Workspaces. Every other table's rows belong to one, and every query filters by it.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
-- `dialtone admin create-key --tenant NAME` finds a workspace by its name.
CREATE UNIQUE INDEX tenants_name ON tenants (name);

-- API keys. The `sk_live_...` secret is shown once; only its SHA-256 is kept.
CREATE TABLE service_accounts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX service_accounts_tenant ON service_accounts (tenant_id, created_at);

-- Short-lived bearer tokens issued for a service account, stored hashed like the secrets.
CREATE TABLE access_tokens (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    account_id  TEXT NOT NULL REFERENCES service_accounts (id),
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT,
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'provisioning', 'active', 'failed', 'disabled')),
    vertical        TEXT,
    template_id     TEXT,
    business_url    TEXT,
    phone_number    TEXT,
    white_label_id  TEXT,
    spec            TEXT,
    kb_version      BIGINT NOT NULL DEFAULT 0,
    kb_doc_count    BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    activated_at    BIGINT,
    deleted_at      BIGINT,
    -- The target of the (tenant_id, agent_id) foreign keys below, which keep a row from pointing at
    -- another tenant's agent.
    UNIQUE (tenant_id, id)
);
CREATE INDEX agents_tenant_created ON agents (tenant_id, created_at, id);
-- A dialled number reaches one agent: at most one active, live agent holds a number.
CREATE UNIQUE INDEX agents_active_phone ON agents (phone_number)
    WHERE status = 'active' AND deleted_at IS NULL;

-- The durable job queue: provisioning, KB syncs and builder jobs.
CREATE TABLE operations (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    kind           TEXT NOT NULL CHECK (kind IN ('provision', 'kb_sync', 'builder')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'running', 'active', 'failed')),
    stage          TEXT,
    progress       BIGINT NOT NULL DEFAULT 0,
    agent_id       TEXT,
    request        TEXT NOT NULL,
    result         TEXT,
    error_code     TEXT,
    error_message  TEXT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    max_attempts   BIGINT NOT NULL,
    run_after      BIGINT NOT NULL,
    lease_owner    TEXT,
    lease_until    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);
CREATE INDEX operations_due ON operations (status, run_after);
CREATE INDEX operations_tenant_kind ON operations (tenant_id, kind, created_at);
CREATE INDEX operations_agent ON operations (agent_id, created_at);

CREATE TABLE kb_versions (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    agent_id      TEXT NOT NULL,
    version       BIGINT NOT NULL,
    chunks        TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);

CREATE TABLE kb_proposals (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    agent_id    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    change      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);
CREATE INDEX kb_proposals_agent ON kb_proposals (tenant_id, agent_id, created_at);

CREATE TABLE calls (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    agent_id     TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_number  TEXT,
    to_number    TEXT,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    duration_ms  BIGINT,
    disposition  TEXT,
    end_reason   TEXT,
    transcript   TEXT,
    extractions  TEXT,
    turns        TEXT,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);
CREATE INDEX calls_tenant_started ON calls (tenant_id, started_at, id);
CREATE INDEX calls_agent_started ON calls (agent_id, started_at);

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    agent_id    TEXT,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
    UNIQUE (tenant_id, id)
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);

-- The event log. `seq` orders it and is the SSE `Last-Event-ID`.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    event_type  TEXT NOT NULL,
    agent_id    TEXT,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_tenant_seq ON events (tenant_id, seq);

-- The webhook outbox: one row per (webhook, event), written in the transaction that emitted the event.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    webhook_id       TEXT NOT NULL,
    event_seq        BIGINT NOT NULL REFERENCES events (seq),
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE idempotency_keys (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    key              TEXT NOT NULL,
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status  BIGINT,
    response_body    TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
