//! Sites that cannot be crawled end in typed errors with the seeds' failure codes, never a panic:
//! bad input, DNS failure, an unreachable host, robots.txt refusing us, an empty or broken home page,
//! and addresses the SSRF guard refuses.

mod support;

use std::time::Duration;

use dialtone_provisioning::{CrawlConfig, Crawler, ProvisionError, ProvisionErrorCode};
use support::{crawl_with, serve, test_config};

async fn crawl_err(config: CrawlConfig, url: &str) -> ProvisionError {
    match crawl_with(config, url).await {
        Ok(result) => panic!("{url} crawled although it should fail: {:?}", result.report),
        Err(e) => e,
    }
}

#[tokio::test]
async fn invalid_urls_are_invalid_url() {
    for bad in [
        "ftp://x",
        "not a url",
        "http://",
        "",
        "https://user:pw@example.com/",
        "mailto:a@b.c",
    ] {
        let err = crawl_err(test_config(), bad).await;
        assert_eq!(err.code, ProvisionErrorCode::InvalidUrl, "{bad:?}: {err}");
        assert!(!err.code.retryable());
    }
}

#[tokio::test]
async fn dns_failure_is_scout_crawl_failed() {
    let err = crawl_err(test_config(), "http://no-such-business.invalid/").await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(
        err.message
            .contains("could not resolve no-such-business.invalid"),
        "{err}"
    );
    assert!(err.code.retryable());
}

#[tokio::test]
async fn unreachable_host_is_scout_crawl_failed() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let err = crawl_err(test_config(), &format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(
        err.message.contains("could not connect to 127.0.0.1"),
        "{err}"
    );
}

#[tokio::test]
async fn robots_disallowing_everything_is_scout_crawl_failed() {
    let server = serve("crawl-robots-all").await;
    let err = crawl_err(test_config(), &server.url("/")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(err.message.contains("robots.txt"), "{err}");
    assert!(err.message.contains("whole site"), "{err}");
    assert_eq!(
        server.requested(),
        ["/robots.txt"],
        "nothing but robots.txt may be fetched"
    );
}

#[tokio::test]
async fn robots_server_error_means_crawl_nothing() {
    let server = serve("crawl-robots-503").await;
    let err = crawl_err(test_config(), &server.url("/")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(err.message.contains("503"), "{err}");
    assert_eq!(server.requested(), ["/robots.txt"]);
}

#[tokio::test]
async fn empty_site_is_scout_crawl_failed() {
    let server = serve("crawl-empty").await;
    let err = crawl_err(test_config(), &server.url("/")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(err.message.contains("empty"), "{err}");
}

#[tokio::test]
async fn broken_or_non_html_home_is_scout_crawl_failed() {
    let server = serve("crawl-broken-home").await;
    let err = crawl_err(test_config(), &server.url("/")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(err.message.contains("HTTP 500"), "{err}");
    let err = crawl_err(test_config(), &server.url("/pdf-home")).await;
    assert!(err.message.contains("not an HTML page"), "{err}");
    let err = crawl_err(test_config(), &server.url("/no-such-page")).await;
    assert!(err.message.contains("HTTP 404"), "{err}");
}

#[tokio::test]
async fn home_redirect_loops_and_chains_fail() {
    let server = serve("crawl-redirects").await;
    let err = crawl_err(test_config(), &server.url("/loop-a")).await;
    assert_eq!(err.code, ProvisionErrorCode::ScoutCrawlFailed, "{err}");
    assert!(err.message.contains("loop"), "{err}");
    let err = crawl_err(test_config(), &server.url("/chain-1")).await;
    assert!(err.message.contains("more than 5 times"), "{err}");
    assert_eq!(server.count("/chain-6"), 1);
    assert_eq!(
        server.count("/chain-7"),
        0,
        "the hop past the limit is not fetched"
    );
}

#[tokio::test]
async fn loopback_without_allow_list_is_blocked_address() {
    let server = serve("crawl-links").await;
    let port = server.addr().port();
    let public_only = CrawlConfig {
        request_timeout: Duration::from_secs(5),
        ..CrawlConfig::default()
    };
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0x7f.1:{port}/"),
    ] {
        let err = crawl_err(public_only.clone(), &url).await;
        assert_eq!(err.code, ProvisionErrorCode::BlockedAddress, "{url}: {err}");
        assert!(err.message.contains("DIALTONE_CRAWL_ALLOW"), "{err}");
        assert!(!err.code.retryable());
    }
    assert!(
        server.requested().is_empty(),
        "a refused address is never contacted"
    );
}

#[tokio::test]
async fn metadata_and_private_literals_are_blocked_before_any_connection() {
    // Even with loopback allowed, these are refused without a packet being sent.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "http://[::]/",
    ] {
        let err = crawl_err(test_config(), url).await;
        assert_eq!(err.code, ProvisionErrorCode::BlockedAddress, "{url}: {err}");
    }
}

#[tokio::test]
async fn home_redirect_to_metadata_is_blocked_address() {
    let server = serve("crawl-redirects").await;
    let err = crawl_err(test_config(), &server.url("/go-metadata")).await;
    assert_eq!(err.code, ProvisionErrorCode::BlockedAddress, "{err}");
    assert!(err.message.contains("169.254.169.254"), "{err}");
}

#[tokio::test]
async fn localhost_is_crawled_when_allowed() {
    let server = serve("crawl-robots-503").await;
    let url = format!("http://localhost:{}/", server.addr().port());
    // The guarded resolver drops ::1 (not allowed) and keeps 127.0.0.1, where the fixture listens.
    let err = crawl_err(test_config(), &url).await;
    assert!(
        err.message.contains("503"),
        "the request reached the server: {err}"
    );
}

#[test]
fn bad_allow_lists_and_configs_are_typed_errors() {
    let err = CrawlConfig::default()
        .with_allow_list("127.0.0.0/8,localhost")
        .expect_err("localhost is not a CIDR");
    assert_eq!(err.entry, "localhost");
    assert!(err.to_string().contains("DIALTONE_CRAWL_ALLOW"));
    let err = CrawlConfig::default()
        .with_allow_list("10.0.0.0/40")
        .expect_err("the prefix is too long");
    assert_eq!(err.entry, "10.0.0.0/40");
    let none = CrawlConfig {
        max_pages: 0,
        ..CrawlConfig::default()
    };
    assert_eq!(
        Crawler::new(none).expect_err("no page allowed").code,
        ProvisionErrorCode::ScoutCrawlFailed
    );
}
