//! `provision_site`: a 30-page fixture site served on loopback, crawled, extracted and built into an agent
//! spec, end to end. The HTTP server shares the machine, so this is the pipeline's local cost with no
//! network latency and no politeness gap.

#[path = "../tests/support/site_server.rs"]
mod site_server;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_provisioning::{CrawlConfig, Crawler, ProvisionRequest, extract, provision};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites/large-harbor-pt");
    let server = runtime
        .block_on(site_server::SiteServer::start(dir))
        .expect("fixture server");
    let config = CrawlConfig {
        per_host_gap: Duration::ZERO,
        ..CrawlConfig::default()
    }
    .with_allow_list("127.0.0.0/8")
    .expect("allow-list");
    let crawler = Crawler::new(config).expect("crawler");
    let request = ProvisionRequest {
        url: Some(server.url("/")),
        ..ProvisionRequest::default()
    };

    let pages = runtime
        .block_on(crawler.crawl(&server.url("/")))
        .expect("crawl")
        .pages;
    assert!(
        pages.len() >= 30,
        "the bench site has {} pages",
        pages.len()
    );

    let mut group = c.benchmark_group("provisioning");
    group.sample_size(10);
    group.bench_function("provision_site", |b| {
        b.iter(|| {
            runtime
                .block_on(provision(&request, &crawler, &mut |_| {}))
                .expect("provision")
        });
    });
    group.bench_function("extract_site_30_pages", |b| b.iter(|| extract(&pages)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
