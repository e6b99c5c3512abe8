//! One batch run: submit every customer with bounded concurrency, poll each operation with a growing
//! pause until it is active, failed or out of time, then check the API's count of active agents.
//!
//! Polling starts as soon as a customer's operation is known rather than after the last submission, so
//! the early agents are done while the late ones are still queued. Requests in flight are bounded
//! separately for submissions (`agents:write`, the tighter rate limit) and polls (reads).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::client::{ApiClient, ApiFailure, OperationView, Submitted};
use super::customers::Customer;

/// The API calls a batch makes; [`ApiClient`] in production, a fake in tests.
pub trait BatchApi {
    /// Queues one customer's agent.
    fn provision(
        &self,
        customer: &Customer,
        template: Option<&str>,
    ) -> impl Future<Output = Result<Submitted, ApiFailure>>;
    /// One operation's state.
    fn operation(&self, id: &str) -> impl Future<Output = Result<OperationView, ApiFailure>>;
    /// `meta.total` of the tenant's active agents.
    fn active_agents(&self) -> impl Future<Output = Result<u64, ApiFailure>>;
}

impl BatchApi for ApiClient {
    fn provision(
        &self,
        customer: &Customer,
        template: Option<&str>,
    ) -> impl Future<Output = Result<Submitted, ApiFailure>> {
        ApiClient::provision(self, customer, template)
    }
    fn operation(&self, id: &str) -> impl Future<Output = Result<OperationView, ApiFailure>> {
        ApiClient::operation(self, id)
    }
    fn active_agents(&self) -> impl Future<Output = Result<u64, ApiFailure>> {
        ApiClient::active_agents(self)
    }
}

/// How a batch runs. The defaults are the batch guide's.
#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// Template for rows that name none; without one the API picks it from the site.
    pub template: Option<String>,
    /// Provisioning requests in flight at once.
    pub concurrency: usize,
    /// Status polls in flight at once.
    pub poll_concurrency: usize,
    /// The pause before an operation's first poll.
    pub first_poll: Duration,
    /// The longest pause between two polls; each pause is 1.5 times the last.
    pub max_poll: Duration,
    /// How long one agent may take, from its submission, before it is reported as timed out.
    pub agent_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            template: None,
            concurrency: 5,
            poll_concurrency: 20,
            first_poll: Duration::from_secs(2),
            max_poll: Duration::from_secs(15),
            agent_timeout: Duration::from_secs(180),
        }
    }
}

/// How one customer ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The agent is live.
    Active {
        /// The new agent.
        agent_id: String,
    },
    /// The API refused the request (bad URL, unknown template, ...): nothing was queued.
    Rejected {
        /// The API's code, with `details.reason` (`VALIDATION_ERROR/invalid_url`).
        code: String,
        /// The API's message.
        message: String,
    },
    /// Provisioning ran and failed.
    Failed {
        /// The operation's code (`scout_crawl_failed`, ...).
        code: String,
        /// Its message.
        message: String,
    },
    /// Still not done when the per-agent time ran out (or its status could not be read).
    Timeout {
        /// Why polling stopped.
        message: String,
    },
}

/// One customer's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerResult {
    /// From the CSV.
    pub customer_id: String,
    /// The CSV line.
    pub line: u64,
    /// The operation, when one was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The API answered from an earlier run (the key was seen before).
    pub replayed: bool,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl CustomerResult {
    /// Whether the agent is live.
    pub fn is_active(&self) -> bool {
        matches!(self.outcome, Outcome::Active { .. })
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct BatchReport {
    /// One per customer, in the order they finished.
    pub results: Vec<CustomerResult>,
    /// The API's `meta.total` of active agents after the run, or why it could not be read.
    pub active_total: Result<u64, ApiFailure>,
    /// From the first submission to the final check.
    pub elapsed: Duration,
}

impl BatchReport {
    /// Customers whose agent is live.
    pub fn active(&self) -> usize {
        self.results.iter().filter(|r| r.is_active()).count()
    }

    /// Customers whose agent is not live, for `failed-agents.json`.
    pub fn failures(&self) -> Vec<&CustomerResult> {
        self.results.iter().filter(|r| !r.is_active()).collect()
    }

    /// Requests answered from an earlier run.
    pub fn replayed(&self) -> usize {
        self.results.iter().filter(|r| r.replayed).count()
    }
}

/// Hears about a run as it goes (the CLI's progress bar).
pub trait BatchProgress {
    /// A customer's request was accepted or refused.
    fn submitted(&self, _customer: &Customer, _result: &Result<Submitted, ApiFailure>) {}
    /// A customer is done.
    fn finished(&self, _result: &CustomerResult) {}
}

/// No progress reporting.
impl BatchProgress for () {}

/// Provisions every customer and checks the result.
pub async fn run_batch(
    api: &impl BatchApi,
    customers: &[Customer],
    config: &BatchConfig,
    progress: &impl BatchProgress,
) -> BatchReport {
    let started = Instant::now();
    let submit = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let poll = Arc::new(Semaphore::new(config.poll_concurrency.max(1)));
    let mut pending: FuturesUnordered<_> = customers
        .iter()
        .map(|customer| one_customer(api, customer, config, &submit, &poll, progress))
        .collect();
    let mut results = Vec::with_capacity(customers.len());
    while let Some(result) = pending.next().await {
        progress.finished(&result);
        results.push(result);
    }
    let active_total = api.active_agents().await;
    BatchReport {
        results,
        active_total,
        elapsed: started.elapsed(),
    }
}

async fn one_customer(
    api: &impl BatchApi,
    customer: &Customer,
    config: &BatchConfig,
    submit: &Semaphore,
    poll: &Semaphore,
    progress: &impl BatchProgress,
) -> CustomerResult {
    let submitted = {
        // Closed only if dropped, which this function never does.
        let _permit = submit.acquire().await.ok();
        api.provision(customer, config.template.as_deref()).await
    };
    progress.submitted(customer, &submitted);
    let result = |operation_id: Option<String>, replayed: bool, outcome: Outcome| CustomerResult {
        customer_id: customer.customer_id.clone(),
        line: customer.line,
        operation_id,
        replayed,
        outcome,
    };
    let submitted = match submitted {
        Ok(submitted) => submitted,
        Err(failure) => {
            let outcome = Outcome::Rejected {
                code: failure.code,
                message: failure.message,
            };
            return result(None, false, outcome);
        }
    };
    let deadline = Instant::now() + config.agent_timeout;
    // A replayed request was most likely finished by the earlier run: look at once.
    let mut pause = if submitted.replayed {
        Duration::ZERO
    } else {
        config.first_poll
    };
    let mut last_error = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            let message = match last_error {
                Some(e) => format!(
                    "no final status within {:?}; last poll: {e}",
                    config.agent_timeout
                ),
                None => format!("provisioning exceeded {:?}", config.agent_timeout),
            };
            return result(
                Some(submitted.operation_id),
                submitted.replayed,
                Outcome::Timeout { message },
            );
        }
        // The last poll falls on the deadline itself.
        let pause_now = pause.min(deadline - now);
        tokio::time::sleep(pause_now).await;
        pause = next_pause(pause, config);
        let view = {
            let _permit = poll.acquire().await.ok();
            api.operation(&submitted.operation_id).await
        };
        let outcome = match view {
            Ok(view) => final_outcome(view),
            Err(e) => {
                // The client already retried what may pass; keep polling until the deadline.
                last_error = Some(e);
                None
            }
        };
        if let Some(outcome) = outcome {
            return result(Some(submitted.operation_id), submitted.replayed, outcome);
        }
    }
}

fn next_pause(pause: Duration, config: &BatchConfig) -> Duration {
    if pause.is_zero() {
        return config.first_poll;
    }
    pause.mul_f64(1.5).min(config.max_poll)
}

fn final_outcome(view: OperationView) -> Option<Outcome> {
    match view.status.as_str() {
        "active" | "completed" => Some(Outcome::Active {
            agent_id: view.agent_id.unwrap_or_default(),
        }),
        "failed" => {
            let error = view.error.unwrap_or_default();
            Some(Outcome::Failed {
                code: error.code,
                message: error.message,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::super::client::OperationError;
    use super::*;

    /// An API whose operations finish a set time after submission, on the virtual clock.
    #[derive(Default)]
    struct FakeApi {
        /// customer_id -> (operation, ready after, outcome)
        plan: HashMap<String, (Duration, Result<&'static str, &'static str>)>,
        submitted: RefCell<HashMap<String, (String, Instant)>>,
        in_flight: RefCell<(usize, usize)>,
        polls: RefCell<usize>,
    }

    impl FakeApi {
        fn with(plan: &[(&str, u64, Result<&'static str, &'static str>)]) -> Self {
            Self {
                plan: plan
                    .iter()
                    .map(|(id, ms, end)| (id.to_string(), (Duration::from_millis(*ms), *end)))
                    .collect(),
                ..Self::default()
            }
        }
    }

    impl BatchApi for FakeApi {
        async fn provision(
            &self,
            customer: &Customer,
            _: Option<&str>,
        ) -> Result<Submitted, ApiFailure> {
            {
                let mut flight = self.in_flight.borrow_mut();
                flight.0 += 1;
                flight.1 = flight.1.max(flight.0);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.in_flight.borrow_mut().0 -= 1;
            if customer.business_url == "nope" {
                return Err(ApiFailure {
                    status: 400,
                    code: "VALIDATION_ERROR/invalid_url".into(),
                    message: "business_url: invalid_url".into(),
                });
            }
            let mut submitted = self.submitted.borrow_mut();
            let replayed = submitted.contains_key(&customer.customer_id);
            let entry = submitted
                .entry(customer.customer_id.clone())
                .or_insert_with(|| (format!("op_{}", customer.customer_id), Instant::now()));
            Ok(Submitted {
                operation_id: entry.0.clone(),
                replayed,
            })
        }

        async fn operation(&self, id: &str) -> Result<OperationView, ApiFailure> {
            *self.polls.borrow_mut() += 1;
            let customer = id.trim_start_matches("op_");
            let (ready_after, end) = self.plan[customer];
            let at = self.submitted.borrow()[customer].1;
            if at.elapsed() < ready_after {
                return Ok(OperationView {
                    status: "running".into(),
                    ..OperationView::default()
                });
            }
            Ok(match end {
                Ok(agent) => OperationView {
                    status: "active".into(),
                    agent_id: Some(agent.into()),
                    ..OperationView::default()
                },
                Err(code) => OperationView {
                    status: "failed".into(),
                    error: Some(OperationError {
                        code: code.into(),
                        message: "the site did not answer".into(),
                    }),
                    ..OperationView::default()
                },
            })
        }

        async fn active_agents(&self) -> Result<u64, ApiFailure> {
            Ok(self.plan.values().filter(|(_, end)| end.is_ok()).count() as u64)
        }
    }

    fn customer(id: &str, url: &str) -> Customer {
        Customer {
            line: 2,
            customer_id: id.into(),
            business_name: id.into(),
            business_url: url.into(),
            template_id: None,
            phone_number: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_customer_ends_active_failed_rejected_or_timed_out() {
        let api = FakeApi::with(&[
            ("a", 3_000, Ok("agt_a")),
            ("b", 10_000, Err("scout_crawl_failed")),
            ("c", 400_000, Ok("agt_c")),
            ("d", 0, Ok("agt_d")),
        ]);
        let customers = [
            customer("a", "https://a"),
            customer("b", "https://b"),
            customer("c", "https://c"),
            customer("d", "nope"),
        ];
        let report = run_batch(&api, &customers, &BatchConfig::default(), &()).await;
        let by_id: HashMap<&str, &Outcome> = report
            .results
            .iter()
            .map(|r| (r.customer_id.as_str(), &r.outcome))
            .collect();
        assert_eq!(
            by_id["a"],
            &Outcome::Active {
                agent_id: "agt_a".into()
            }
        );
        assert!(matches!(by_id["b"], Outcome::Failed { code, .. } if code == "scout_crawl_failed"));
        assert!(matches!(by_id["c"], Outcome::Timeout { .. }));
        assert!(
            matches!(by_id["d"], Outcome::Rejected { code, .. } if code.ends_with("invalid_url"))
        );
        assert_eq!(report.active(), 1);
        assert_eq!(report.failures().len(), 3);
        // Polls at 2, 3, 4.5, 6.75, 10.1 s...: the 3 s agent is seen at the second poll, 3.1 s in.
        assert!(report.elapsed >= Duration::from_secs(180));
    }

    #[tokio::test(start_paused = true)]
    async fn submissions_stay_within_the_concurrency_and_a_rerun_polls_at_once() {
        let plan: Vec<(String, u64)> = (0..20).map(|i| (format!("c{i}"), 1_000)).collect();
        let plan: Vec<(&str, u64, Result<&'static str, &'static str>)> = plan
            .iter()
            .map(|(id, ms)| (id.as_str(), *ms, Ok("agt")))
            .collect();
        let api = FakeApi::with(&plan);
        let customers: Vec<Customer> = plan
            .iter()
            .map(|(id, ..)| customer(id, "https://x"))
            .collect();
        let config = BatchConfig::default();
        let first = run_batch(&api, &customers, &config, &()).await;
        assert_eq!(first.active(), 20);
        assert_eq!(first.replayed(), 0);
        assert_eq!(api.in_flight.borrow().1, 5, "at most 5 submissions at once");
        // 20 submissions of 100 ms, 5 at a time, then one 2 s pause before each first poll.
        assert!(
            first.elapsed < Duration::from_millis(2_500),
            "{:?}",
            first.elapsed
        );

        *api.polls.borrow_mut() = 0;
        let second = run_batch(&api, &customers, &config, &()).await;
        assert_eq!(second.replayed(), 20);
        assert_eq!(second.active(), 20);
        assert_eq!(
            *api.polls.borrow(),
            20,
            "one poll each: the earlier run finished them"
        );
        assert!(
            second.elapsed < Duration::from_millis(500),
            "{:?}",
            second.elapsed
        );
        assert_eq!(second.active_total, Ok(20));
    }
}
