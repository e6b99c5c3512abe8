//! A small business site crawled from its home page: useful pages first, variants of one URL fetched
//! once, common paths guessed, and everything that is not a same-site HTML page skipped with a reason:
//! PDFs, broken links, off-site links and links (or redirects) to metadata and private addresses.

mod support;

use dialtone_provisioning::CrawlConfig;
use support::{crawl_with, page_paths, serve, skip_reason, test_config};

#[tokio::test]
async fn home_links_and_common_paths_useful_pages_first() {
    let server = serve("crawl-links").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    let paths = page_paths(&result, &server);
    assert_eq!(
        paths,
        [
            "/",
            "/contact-us",
            "/about",
            "/services/",
            "/services/cleaning",
            "/team",
            "/hours",
            "/blog/",
            "/blog/2024/flossing",
            "/blog/2024/deeper",
        ],
        "skipped: {:#?}",
        result.report.skipped
    );
    let depths: Vec<u32> = result.pages.iter().map(|p| p.depth).collect();
    assert_eq!(depths, [0, 1, 1, 1, 2, 1, 1, 1, 2, 3]);
    assert!(result.pages[0].html.contains("Family dentistry"));
    assert_eq!(result.report.pages_fetched, result.pages.len());
    assert!(result.report.bytes_fetched > 1000);
    assert!(!result.report.sitemap_found);
}

#[tokio::test]
async fn each_page_is_fetched_once_and_robots_txt_first() {
    let server = serve("crawl-links").await;
    crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    let requested = server.requested();
    assert_eq!(requested[0], "/robots.txt");
    assert_eq!(requested[1], "/");
    assert_eq!(server.count("/robots.txt"), 1);
    for path in ["/about", "/team", "/contact-us"] {
        assert_eq!(server.count(path), 1, "{path} in {requested:?}");
    }
    assert!(
        !requested
            .iter()
            .any(|p| p.starts_with("/about?") || p.starts_with("/about/"))
    );
    assert!(
        server
            .hits()
            .iter()
            .all(|h| h.user_agent.contains("DialtoneBot"))
    );
}

#[tokio::test]
async fn skipped_urls_say_why() {
    let server = serve("crawl-links").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    let expect = [
        (server.url("/brochure.pdf"), "not_html"),
        (server.url("/menu-download"), "not_html"),
        (server.url("/missing"), "http_404"),
        (server.url("/broken"), "http_500"),
        (
            "https://www.facebook.com/maple-dental".to_owned(),
            "off_site",
        ),
        ("https://example.org/partner".to_owned(), "off_site"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "blocked_address",
        ),
        ("http://10.0.0.7/admin".to_owned(), "blocked_address"),
        ("http://[::ffff:c0a8:1]/".to_owned(), "blocked_address"),
        (server.url("/go-metadata"), "blocked_address"),
        (server.url("/go-private"), "blocked_address"),
        (server.url("/go-offsite"), "off_site"),
    ];
    let mut missing = Vec::new();
    for (url, reason) in &expect {
        if skip_reason(&result, url) != Some(reason) {
            missing.push(format!(
                "{url} -> {:?}, expected {reason}",
                skip_reason(&result, url)
            ));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    // Common paths are guesses: one that does not exist is tried once and not reported as broken.
    assert_eq!(server.count("/insurance"), 1);
    assert_eq!(skip_reason(&result, &server.url("/insurance")), None);
    // Depth 4, beyond max_depth 3: not even queued, so neither kept nor reported.
    assert_eq!(
        skip_reason(&result, &server.url("/blog/2024/deepest")),
        None
    );
    assert_eq!(server.count("/blog/2024/deepest"), 0);
    assert_eq!(
        server.count("/brochure.pdf"),
        0,
        "skipped by extension before fetching"
    );
    assert_eq!(
        server.count("/menu-download"),
        1,
        "skipped by Content-Type after fetching"
    );
    assert!(
        !result
            .report
            .skipped
            .iter()
            .any(|s| s.url.starts_with("mailto:") || s.url.starts_with("tel:")),
        "non-web links are not reported"
    );
    let urls: Vec<&str> = result
        .report
        .skipped
        .iter()
        .map(|s| s.url.as_str())
        .collect();
    let mut unique = urls.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        urls.len(),
        "each URL is reported once: {urls:?}"
    );
}

#[tokio::test]
async fn page_limit_keeps_the_most_useful_pages() {
    let server = serve("crawl-links").await;
    let config = CrawlConfig {
        max_pages: 3,
        ..test_config()
    };
    let result = crawl_with(config, &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(page_paths(&result, &server), ["/", "/contact-us", "/about"]);
    assert_eq!(
        skip_reason(&result, &server.url("/team")),
        Some("page_limit")
    );
    assert_eq!(
        skip_reason(&result, &server.url("/blog/")),
        Some("page_limit")
    );
    assert_eq!(server.count("/team"), 0);
}

#[tokio::test]
async fn depth_zero_keeps_the_home_page_only() {
    let server = serve("crawl-links").await;
    let config = CrawlConfig {
        max_depth: 0,
        ..test_config()
    };
    let result = crawl_with(config, &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(page_paths(&result, &server), ["/"]);
    assert_eq!(
        server.requested(),
        ["/robots.txt", "/"],
        "no sitemap or common path is tried"
    );
}
