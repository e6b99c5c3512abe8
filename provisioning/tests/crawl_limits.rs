//! Time and manners: a page that never answers costs one request timeout, the crawl stops at its total
//! time, at most `concurrency` requests are in flight, and requests to one host keep their distance.

mod support;

use std::time::Duration;

use dialtone_provisioning::CrawlConfig;
use support::{crawl_with, page_paths, serve, skip_reason, test_config};

#[tokio::test]
async fn a_hanging_page_times_out_alone() {
    let server = serve("crawl-slow").await;
    let config = CrawlConfig {
        request_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let result = crawl_with(config, &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(skip_reason(&result, &server.url("/never")), Some("timeout"));
    assert_eq!(page_paths(&result, &server), ["/", "/contact"]);
}

#[tokio::test]
async fn the_total_time_limit_ends_the_crawl_with_what_it_has() {
    let server = serve("crawl-slow").await;
    let config = CrawlConfig {
        max_total_time: Duration::from_millis(500),
        ..test_config()
    };
    let result = crawl_with(config, &server.url("/"))
        .await
        .expect("the home page arrived in time");
    assert_eq!(
        skip_reason(&result, &server.url("/never")),
        Some("time_limit")
    );
    assert!(page_paths(&result, &server).contains(&"/contact".to_owned()));
    assert!(result.report.elapsed_ms >= 500 && result.report.elapsed_ms < 5000);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = serve("crawl-politeness").await;
    let config = CrawlConfig {
        concurrency: 2,
        ..test_config()
    };
    let result = crawl_with(config, &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(result.pages.len(), 9);
    assert!(
        server.max_in_flight() <= 2,
        "{} in flight",
        server.max_in_flight()
    );
    assert_eq!(
        server.max_in_flight(),
        2,
        "pages answering late overlap up to the bound"
    );
}

#[tokio::test]
async fn requests_to_one_host_keep_the_gap() {
    let server = serve("crawl-politeness").await;
    // Wide enough that scheduling jitter on a busy machine stays well inside the slack below.
    let gap = Duration::from_millis(100);
    let config = CrawlConfig {
        per_host_gap: gap,
        concurrency: 4,
        max_pages: 3,
        ..test_config()
    };
    crawl_with(config, &server.url("/"))
        .await
        .expect("the site crawls");
    let hits = server.hits();
    assert!(hits.len() >= 10);
    // The gap spaces request starts at the client; arrivals at the server jitter by connection set-up,
    // so each pair gets slack and the whole run must add up to the gaps.
    for pair in hits.windows(2) {
        let apart = pair[1].at.duration_since(pair[0].at);
        assert!(
            apart >= gap / 4,
            "{} then {} only {apart:?} apart",
            pair[0].path,
            pair[1].path
        );
    }
    let span = hits[hits.len() - 1].at.duration_since(hits[0].at);
    let gaps = u32::try_from(hits.len() - 1).expect("few requests");
    assert!(
        span >= gap * gaps - Duration::from_millis(5),
        "{span:?} for {gaps} gaps"
    );
}
