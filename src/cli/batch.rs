//! `dialtone batch provision customers.csv`: provision one agent per customer through the API.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use dialtone::batch::{
    ApiClient, ApiFailure, BatchConfig, BatchProgress, BatchReport, Customer, CustomerResult,
    Outcome, Submitted, read_customers, run_batch,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Batch commands.
#[derive(Debug, clap::Subcommand)]
pub enum BatchAction {
    /// One agent per CSV row (`customer_id,business_name,business_url[,template_id][,phone_number]`),
    /// safe to rerun: each request's idempotency key comes from its customer_id.
    Provision(ProvisionArgs),
}

/// Options of `dialtone batch provision`.
#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    /// The customer list.
    pub csv: PathBuf,
    /// The API to provision through; the key needs agents:write.
    #[command(flatten)]
    pub api: super::api_access::ApiAccess,
    /// Template for rows without one (`dental_receptionist`, `salon_spa`, ...); the API picks one from
    /// each site when absent.
    #[arg(long)]
    pub template: Option<String>,
    /// Provisioning requests in flight at once (agents:write has the tighter rate limit).
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
    /// Status polls in flight at once.
    #[arg(long, default_value_t = 20)]
    pub poll_concurrency: usize,
    /// Seconds before an operation's first poll; each next pause is 1.5 times longer.
    #[arg(long, default_value_t = 2.0)]
    pub first_poll_secs: f64,
    /// The longest pause between polls, in seconds.
    #[arg(long, default_value_t = 15.0)]
    pub max_poll_secs: f64,
    /// Seconds one agent may take before it is reported as timed out.
    #[arg(long, default_value_t = 180.0)]
    pub timeout_secs: f64,
    /// Where customers that did not end active are written (removed when there are none).
    #[arg(long, default_value = "failed-agents.json")]
    pub failures: PathBuf,
    /// Print every customer's result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand; the process exits 2 on an invalid CSV and 3 when some customers failed.
pub async fn run(action: BatchAction) -> anyhow::Result<()> {
    let BatchAction::Provision(args) = action;
    let text = std::fs::read_to_string(&args.csv)
        .with_context(|| format!("reading {}", args.csv.display()))?;
    let customers = match read_customers(&text) {
        Ok(customers) => customers,
        Err(problems) => {
            eprintln!("{} is not a valid customer list:", args.csv.display());
            for problem in problems {
                eprintln!("  {problem}");
            }
            std::process::exit(2);
        }
    };
    let config = BatchConfig {
        template: args.template.clone(),
        concurrency: args.concurrency,
        poll_concurrency: args.poll_concurrency,
        first_poll: secs("--first-poll-secs", args.first_poll_secs)?,
        max_poll: secs("--max-poll-secs", args.max_poll_secs)?,
        agent_timeout: secs("--timeout-secs", args.timeout_secs)?,
    };
    let api = ApiClient::new(&args.api.api_url, &args.api.api_key)?;
    eprintln!("Provisioning {} agents...", customers.len());
    let progress = Bar::new(customers.len());
    let report = run_batch(&api, &customers, &config, &progress).await;
    progress.bar.finish_and_clear();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.results)?);
    }
    eprint!("{}", summary(&report));
    let failures = report.failures();
    if failures.is_empty() {
        match std::fs::remove_file(&args.failures) {
            Ok(()) => eprintln!("Removed {} from an earlier run.", args.failures.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("could not remove {}: {e}", args.failures.display()),
        }
    } else {
        std::fs::write(&args.failures, serde_json::to_string_pretty(&failures)?)
            .with_context(|| format!("writing {}", args.failures.display()))?;
        eprintln!(
            "Failures written to {} for review; rerunning the same CSV retries only them.",
            args.failures.display()
        );
    }
    let counted = matches!(report.active_total, Ok(total) if total >= report.active() as u64);
    if !failures.is_empty() || !counted {
        std::process::exit(3);
    }
    Ok(())
}

fn secs(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| anyhow::anyhow!("{flag} must be a number >= 0"))
}

/// The run's outcome in a few lines.
fn summary(report: &BatchReport) -> String {
    let mut s = String::new();
    let (mut failed, mut rejected, mut timeouts) = (BTreeMap::new(), BTreeMap::new(), 0);
    for result in &report.results {
        match &result.outcome {
            Outcome::Active { .. } => {}
            Outcome::Failed { code, .. } => *failed.entry(code.as_str()).or_insert(0) += 1,
            Outcome::Rejected { code, .. } => *rejected.entry(code.as_str()).or_insert(0) += 1,
            Outcome::Timeout { .. } => timeouts += 1,
        }
    }
    let by_code = |counts: &BTreeMap<&str, usize>| {
        let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    };
    let _ = writeln!(
        s,
        "\nProvisioning complete in {:.1} s:",
        report.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "  active:    {} ({} from an earlier run)",
        report.active(),
        report
            .results
            .iter()
            .filter(|r| r.is_active() && r.replayed)
            .count()
    );
    let _ = writeln!(
        s,
        "  failed:    {}{}",
        failed.values().sum::<usize>(),
        by_code(&failed)
    );
    let _ = writeln!(
        s,
        "  rejected:  {}{}",
        rejected.values().sum::<usize>(),
        by_code(&rejected)
    );
    let _ = writeln!(s, "  timed out: {timeouts}");
    match &report.active_total {
        Ok(total) if *total == report.active() as u64 => {
            let _ = writeln!(
                s,
                "GET /v2/agents?status=active: meta.total {total}, as expected"
            );
        }
        Ok(total) if *total > report.active() as u64 => {
            let _ = writeln!(
                s,
                "GET /v2/agents?status=active: meta.total {total}, including {} agents from outside this list",
                *total - report.active() as u64
            );
        }
        Ok(total) => {
            let _ = writeln!(
                s,
                "GET /v2/agents?status=active: meta.total {total}, fewer than the {} reported active: check the API",
                report.active()
            );
        }
        Err(e) => {
            let _ = writeln!(s, "could not read the active agent count: {e}");
        }
    }
    s
}

/// A progress bar on stderr (drawn only on a terminal); failures are printed above it as they come.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} done, {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar }
    }
}

impl BatchProgress for Bar {
    fn submitted(&self, customer: &Customer, result: &Result<Submitted, ApiFailure>) {
        if result.is_ok() {
            self.bar
                .set_message(format!("queued {}", customer.customer_id));
        }
    }

    fn finished(&self, result: &CustomerResult) {
        self.bar.inc(1);
        let line = match &result.outcome {
            Outcome::Active { .. } => return,
            Outcome::Failed { code, message } | Outcome::Rejected { code, message } => {
                format!("{code}: {message}")
            }
            Outcome::Timeout { message } => message.clone(),
        };
        let where_ = format!("line {} ({})", result.line, result.customer_id);
        if self.bar.is_hidden() {
            eprintln!("{where_}: {line}");
        } else {
            self.bar.println(format!("{where_}: {line}"));
        }
    }
}
