//! The batch guide, replayed end to end with the real binaries: 100 customers in a CSV, each with its own
//! website served on loopback (a few deliberately broken), provisioned by `dialtone batch provision`
//! against a real `dialtone serve`.
//!
//! The first run stops after the first 40 rows, as a script killed midway would; the second takes the
//! whole list and gets the first 40 back from their idempotency keys; a third creates nothing. After each,
//! `GET /v2/agents?status=active&limit=200` counts exactly the successes, and every broken customer
//! failed with its own code. The test prints the full run's wall time (the guide's is ten minutes).

#![allow(clippy::unwrap_used)]

#[path = "support/serve.rs"]
mod serve;
#[path = "../provisioning/tests/support/site_server.rs"]
mod site_server;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use serve::{Server, create_tenant_key, temp_dir};
use site_server::SiteServer;
use tokio::process::Command;

const CUSTOMERS: usize = 100;
/// Rows the interrupted first run covers. `DIALTONE_BATCH_INTERRUPT_AT=0` skips that run, so the full run
/// starts from nothing: how the wall time in the closing notes was measured.
const INTERRUPT_AT: usize = 40;
const DEADLINE: Duration = Duration::from_secs(120);

/// A small dental practice's site: structured data on the home page, services and team pages.
fn write_site(dir: &Path, i: usize) {
    let name = format!("Practice {i} Family Dental");
    let phone = 1000 + i;
    let saturday_close = 12 + i % 3;
    let home = format!(
        r#"<!DOCTYPE html><html><head><title>{name} | Dentist in Portland</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Dentist","name":"{name}",
"telephone":"+1-503-555-{phone}","address":{{"@type":"PostalAddress","streetAddress":"{i} Main St",
"addressLocality":"Portland","addressRegion":"OR","postalCode":"97201"}},
"openingHoursSpecification":[{{"@type":"OpeningHoursSpecification",
"dayOfWeek":["Monday","Tuesday","Wednesday","Thursday","Friday"],"opens":"08:00","closes":"17:00"}},
{{"@type":"OpeningHoursSpecification","dayOfWeek":"Saturday","opens":"09:00","closes":"{saturday_close}:00"}}]}}</script>
</head><body><header><nav><a href="/">Home</a> <a href="/services">Services</a> <a href="/team">Our team</a></nav></header>
<main><h1>Welcome to {name}</h1>
<p>Gentle dentistry for the whole family in downtown Portland. New patients are always welcome, and we
see dental emergencies the same day whenever we can.</p>
<p>Call us at (503) 555-{phone} to book a visit.</p></main>
<footer>{name}, {i} Main St, Portland, OR 97201. Phone (503) 555-{phone}.</footer></body></html>"#
    );
    let services = format!(
        r#"<!DOCTYPE html><html><head><title>Services | {name}</title></head><body><main>
<h1>Our services</h1><ul><li>Cleanings and exams</li><li>Fillings</li><li>Crowns and bridges</li>
<li>Teeth whitening</li><li>Invisalign</li></ul>
<p>We accept Delta Dental, Cigna and MetLife, and offer payment plans.</p></main></body></html>"#
    );
    let team = format!(
        r#"<!DOCTYPE html><html><head><title>Team | {name}</title></head><body><main>
<h1>Meet our dentists</h1><h2>Dr. Morgan Lee{i}</h2><p>Dr. Lee{i} has practised family dentistry for
fifteen years.</p></main></body></html>"#
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("index.html"), home).unwrap();
    std::fs::write(dir.join("services.html"), services).unwrap();
    std::fs::write(dir.join("team.html"), team).unwrap();
}

/// How a deliberately broken customer is broken, and the code it must fail with.
#[derive(Clone, Copy, Debug)]
enum Broken {
    /// The home page answers 500 on every attempt.
    ServerError,
    /// Nothing listens on the port.
    Refused,
    /// The URL is not a website.
    NotAUrl,
    /// The cloud metadata address.
    Metadata,
    /// A template that does not exist.
    UnknownTemplate,
}

impl Broken {
    fn for_customer(i: usize) -> Option<Self> {
        match i {
            7 => Some(Self::ServerError),
            23 => Some(Self::NotAUrl),
            51 => Some(Self::Refused),
            66 => Some(Self::Metadata),
            78 => Some(Self::ServerError),
            90 => Some(Self::UnknownTemplate),
            _ => None,
        }
    }

    /// `(status, code)` in the batch's JSON results.
    fn expected(self) -> (&'static str, &'static str) {
        match self {
            Self::ServerError | Self::Refused => ("failed", "scout_crawl_failed"),
            Self::Metadata => ("failed", "blocked_address"),
            Self::NotAUrl => ("rejected", "VALIDATION_ERROR/invalid_url"),
            Self::UnknownTemplate => ("rejected", "VALIDATION_ERROR/template_not_found"),
        }
    }
}

/// The sites and the CSV naming them.
struct Customers {
    root: PathBuf,
    _servers: Vec<SiteServer>,
    csv_rows: Vec<String>,
    origins: BTreeMap<String, String>,
}

impl Customers {
    async fn serve() -> Self {
        let root = temp_dir("batch-sites");
        let mut servers = Vec::new();
        let mut csv_rows = Vec::new();
        let mut origins = BTreeMap::new();
        for i in 0..CUSTOMERS {
            let id = format!("cust-{i:03}");
            let dir = root.join(&id);
            write_site(&dir, i);
            let mut template = "dental_receptionist";
            let url = match Broken::for_customer(i) {
                Some(Broken::ServerError) => {
                    std::fs::write(
                        dir.join("_routes.toml"),
                        "[routes.\"/\"]\nstatus = 500\nbody = \"<h1>Database error</h1>\"\n",
                    )
                    .unwrap();
                    let server = SiteServer::start(&dir).await.unwrap();
                    let url = server.url("/");
                    servers.push(server);
                    url
                }
                Some(Broken::Refused) => "http://127.0.0.1:9/".to_owned(),
                Some(Broken::NotAUrl) => "call us maybe".to_owned(),
                Some(Broken::Metadata) => "http://169.254.169.254/".to_owned(),
                Some(Broken::UnknownTemplate) | None => {
                    if Broken::for_customer(i).is_some() {
                        template = "dentist_deluxe";
                    }
                    let server = SiteServer::start(&dir).await.unwrap();
                    let url = server.url("/");
                    servers.push(server);
                    url
                }
            };
            origins.insert(id.clone(), url.clone());
            csv_rows.push(format!(
                "{id},\"Practice {i}, Family Dental\",{url},{template},+1971555{:04}",
                1000 + i
            ));
        }
        Self {
            root,
            _servers: servers,
            csv_rows,
            origins,
        }
    }

    /// A CSV of the first `n` customers.
    fn csv(&self, n: usize) -> PathBuf {
        let path = self.root.join(format!("customers-{n}.csv"));
        let mut text =
            "customer_id,business_name,business_url,template_id,phone_number\n".to_owned();
        for row in &self.csv_rows[..n] {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn successes(&self, n: usize) -> usize {
        (0..n)
            .filter(|i| Broken::for_customer(*i).is_none())
            .count()
    }
}

/// `dialtone serve` on its own data directory, with an API key of a fresh tenant.
async fn start_server(data: &Path) -> (Server, String) {
    let key = create_tenant_key(data, "batch", "*");
    // Three runs send 240 provisioning requests within a minute or so; the guide's pacing (5 in flight)
    // is what this test is about, not the default per-minute budget.
    let server = Server::start_with(
        data,
        &["--write-rate-per-minute", "1000"],
        &[("DIALTONE_CRAWL_ALLOW", "127.0.0.0/8")],
    )
    .await;
    (server, key)
}

/// Runs `dialtone batch provision` on `csv`; returns its exit code, its JSON results and its stderr.
async fn batch(api: &str, key: &str, csv: &Path, failures: &Path) -> (i32, Vec<Value>, String) {
    let started = Instant::now();
    let output: Output = tokio::time::timeout(
        DEADLINE,
        Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["batch", "provision", "--json"])
            .arg(csv)
            .args(["--api-url", api, "--failures"])
            .arg(failures)
            .env("DIALTONE_API_KEY", key)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!(
        "batch of {} finished in {:.1} s:\n{stderr}",
        csv.display(),
        started.elapsed().as_secs_f64()
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    (output.status.code().unwrap_or(-1), results, stderr)
}

async fn get(api: &str, key: &str, path: &str) -> Value {
    let body = reqwest_get(&format!("{api}{path}"), key).await;
    serde_json::from_str(&body).unwrap()
}

/// A bare HTTP/1.1 GET, so the test needs no HTTP client of its own.
async fn reqwest_get(url: &str, key: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

fn by_customer(results: &[Value]) -> BTreeMap<String, Value> {
    results
        .iter()
        .map(|r| (r["customer_id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

async fn totals(api: &str, key: &str) -> (u64, u64) {
    let active = get(api, key, "/v2/agents?status=active&limit=200").await;
    let all = get(api, key, "/v2/agents?limit=200").await;
    (
        active["meta"]["total"].as_u64().unwrap(),
        all["meta"]["total"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_customers_provision_once_across_an_interrupted_run_and_reruns() {
    let data = temp_dir("batch-data");
    let customers = Customers::serve().await;
    let (server, key) = start_server(&data).await;
    let api = server.url.clone();
    let failures = customers.root.join("failed-agents.json");

    // A first run that covers only the first rows, like a script killed midway.
    let interrupt_at = std::env::var("DIALTONE_BATCH_INTERRUPT_AT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(INTERRUPT_AT)
        .min(CUSTOMERS);
    let mut first = Vec::new();
    if interrupt_at > 0 {
        let (code, results, _) = batch(&api, &key, &customers.csv(interrupt_at), &failures).await;
        let first_active = results.iter().filter(|r| r["status"] == "active").count();
        assert_eq!(first_active, customers.successes(interrupt_at));
        assert_eq!(code, if first_active < interrupt_at { 3 } else { 0 });
        assert_eq!(results.len(), interrupt_at);
        assert_eq!(totals(&api, &key).await.0, first_active as u64);
        first = results;
    }

    // The whole list: the first rows come back from their keys, the rest are new.
    let started = Instant::now();
    let (code, full, stderr) = batch(&api, &key, &customers.csv(CUSTOMERS), &failures).await;
    let wall = started.elapsed();
    assert_eq!(code, 3);
    let full = by_customer(&full);
    assert_eq!(full.len(), CUSTOMERS);
    let before = by_customer(&first);
    for (id, result) in &full {
        let i: usize = id.trim_start_matches("cust-").parse().unwrap();
        match Broken::for_customer(i) {
            None => {
                assert_eq!(result["status"], "active", "{id}: {result}");
                assert!(result["agent_id"].as_str().unwrap().starts_with("agt_"));
            }
            Some(broken) => {
                let (status, code) = broken.expected();
                assert_eq!(result["status"], status, "{id} ({broken:?}): {result}");
                assert_eq!(result["code"], code, "{id} ({broken:?}): {result}");
            }
        }
        if let Some(earlier) = before.get(id) {
            // Queued the first time: the same operation, answered from the key.
            if earlier.get("operation_id").is_some() {
                assert_eq!(result["replayed"], true, "{id}");
                assert_eq!(result["operation_id"], earlier["operation_id"], "{id}");
            }
            if earlier["status"] == "active" {
                assert_eq!(result["agent_id"], earlier["agent_id"], "{id}");
            }
        } else {
            assert_eq!(result["replayed"], false, "{id}");
        }
    }
    let successes = customers.successes(CUSTOMERS);
    let queued = full
        .values()
        .filter(|r| r.get("operation_id").is_some())
        .count();
    let (active_total, all_total) = totals(&api, &key).await;
    assert_eq!(
        active_total, successes as u64,
        "meta.total counts the successes"
    );
    assert_eq!(
        all_total, queued as u64,
        "one agent per queued customer, failed ones included"
    );
    assert!(
        stderr.contains(&format!("meta.total {successes}, as expected")),
        "{stderr}"
    );

    // failed-agents.json names exactly the broken customers, with their codes.
    let written: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&failures).unwrap()).unwrap();
    let written: HashSet<(String, String)> = written
        .iter()
        .map(|r| {
            (
                r["customer_id"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: HashSet<(String, String)> = (0..CUSTOMERS)
        .filter_map(|i| {
            Broken::for_customer(i).map(|b| (format!("cust-{i:03}"), b.expected().1.to_owned()))
        })
        .collect();
    assert_eq!(written, expected);

    // Each agent was built from its own site.
    for i in [0, 42, 99] {
        let id = full[&format!("cust-{i:03}")]["agent_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let agent = get(&api, &key, &format!("/v2/agents/{id}")).await;
        let agent = &agent["data"];
        assert_eq!(agent["status"], "active");
        assert_eq!(agent["phone_number"], format!("+1971555{:04}", 1000 + i));
        assert_eq!(
            agent["name"],
            format!("Practice {i}, Family Dental AI Receptionist")
        );
        let facts = agent["facts"].to_string();
        assert!(
            facts.contains(&format!("+1503555{:04}", 1000 + i)),
            "{i}: {facts}"
        );
        assert!(
            facts.contains(&format!("09:00-{}:00", 12 + i % 3)),
            "{i}: {facts}"
        );
        assert!(
            agent["business_url"]
                .as_str()
                .unwrap()
                .starts_with(customers.origins[&format!("cust-{i:03}")].trim_end_matches('/'))
        );
    }

    // A rerun of the full list creates nothing and changes nothing.
    let (code, again, stderr) = batch(&api, &key, &customers.csv(CUSTOMERS), &failures).await;
    assert_eq!(code, 3);
    let again = by_customer(&again);
    for (id, result) in &full {
        assert_eq!(again[id]["status"], result["status"], "{id}");
        assert_eq!(again[id].get("agent_id"), result.get("agent_id"), "{id}");
        if result.get("operation_id").is_some() {
            assert_eq!(again[id]["replayed"], true, "{id}");
        }
    }
    assert_eq!(totals(&api, &key).await, (active_total, all_total));
    assert!(stderr.contains(&format!(
        "active:    {successes} ({successes} from an earlier run)"
    )));

    // A malformed list is refused whole, with line numbers, before anything is sent.
    let bad_csv = customers.root.join("bad.csv");
    std::fs::write(
        &bad_csv,
        "customer_id,business_name,business_url\nx1,A,https://a.example\nx1,B,https://b.example\n,C,\n",
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["batch", "provision"])
        .arg(&bad_csv)
        .args(["--api-url", &api, "--api-key", &key])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 3: customer_id \"x1\" repeats line 2"),
        "{stderr}"
    );
    assert!(stderr.contains("line 4: customer_id is empty"), "{stderr}");
    assert_eq!(totals(&api, &key).await, (active_total, all_total));

    eprintln!(
        "BATCH WALL TIME: {:.1} s for {CUSTOMERS} customers ({} new, {successes} active)",
        wall.as_secs_f64(),
        CUSTOMERS - interrupt_at
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&customers.root);
}
