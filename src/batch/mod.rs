//! `dialtone batch provision`: the batch guide's pattern built in. Read a customer CSV, queue one
//! `POST /v2/agents` per customer with an idempotency key derived from its `customer_id` (so a rerun
//! after a crash creates no duplicates), poll each operation with backoff and a per-agent timeout, and
//! check the API's count of active agents at the end.

mod client;
mod customers;
mod run;

pub use client::{ApiClient, ApiFailure, OperationError, OperationView, Submitted};
pub use customers::{CsvProblem, Customer, read_customers};
pub use run::{
    BatchApi, BatchConfig, BatchProgress, BatchReport, CustomerResult, Outcome, run_batch,
};
