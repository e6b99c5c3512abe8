-- Outbound mission tasks: call a number with a task, keep the transcript and a summary. The same in
-- both dialects. Times are unix milliseconds, JSON is TEXT.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    -- 1, 2, 3... per tenant, in creation order.
    task_number     BIGINT NOT NULL,
    phone_number    TEXT NOT NULL,
    task            TEXT NOT NULL,
    agent_id        TEXT,
    metadata        TEXT,
    status          TEXT NOT NULL CHECK (status IN
                    ('pending', 'accepted', 'in_progress', 'completed', 'cancelled', 'failed')),
    -- Why it failed (no_answer, busy, rejected, trunk_error, timeout), or why the last attempt did.
    failure_reason  TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    max_attempts    BIGINT NOT NULL,
    result_data     TEXT,
    -- Not dialled before this: retries' backoff and the calling-hours window.
    run_after       BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
    UNIQUE (tenant_id, task_number)
);
CREATE INDEX tasks_tenant_created ON tasks (tenant_id, created_at, id);
CREATE INDEX tasks_due ON tasks (status, run_after);
