//! Page bodies: legacy charsets decoded right (from Content-Type, from `<meta charset>`, undeclared),
//! gzip and brotli answers decompressed, and pages over the byte limit skipped, compressed or not.
//!
//! The fixture's binary files were made with Python: `latin1.html` and `undeclared.html` encoded as
//! cp1252, `sjis.html` as shift_jis, `*.gz` with `gzip.compress(..., 9, mtime=0)`, `brotli.html.br` with
//! `brotli.compress`.

mod support;

use dialtone_provisioning::CrawlConfig;
use support::{crawl_with, html_of, serve, skip_reason, test_config};

fn small_pages() -> CrawlConfig {
    CrawlConfig {
        max_page_bytes: 32 * 1024,
        ..test_config()
    }
}

#[tokio::test]
async fn windows_1252_from_the_content_type() {
    let server = serve("crawl-content").await;
    let result = crawl_with(small_pages(), &server.url("/"))
        .await
        .expect("the site crawls");
    let html = html_of(&result, &server, "/latin1");
    assert!(
        html.contains("Café Zürich — Öffnungszeiten: Mo–Fr 8–18 Uhr, „Kuchen“ 3,50 €"),
        "{html}"
    );
    assert!(!html.contains('\u{fffd}'));
}

#[tokio::test]
async fn shift_jis_from_a_meta_charset() {
    let server = serve("crawl-content").await;
    let result = crawl_with(small_pages(), &server.url("/"))
        .await
        .expect("the site crawls");
    let html = html_of(&result, &server, "/sjis");
    // 0x8160 is the wave dash; the WHATWG Shift_JIS table, as browsers, reads it as U+FF5E "～".
    assert!(
        html.contains("営業時間：月曜日～金曜日 9:00～18:00"),
        "{html}"
    );
    assert!(html.contains("<title>営業時間</title>"));
}

#[tokio::test]
async fn undeclared_legacy_bytes_read_as_windows_1252() {
    let server = serve("crawl-content").await;
    let result = crawl_with(small_pages(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert!(html_of(&result, &server, "/undeclared").contains("Crème brûlée and café au lait"));
}

#[tokio::test]
async fn gzip_and_brotli_answers_are_decompressed() {
    let server = serve("crawl-content").await;
    let result = crawl_with(small_pages(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert!(html_of(&result, &server, "/gzip").contains("Espresso 2,80 € — Cappuccino 3,40 €"));
    assert!(html_of(&result, &server, "/brotli").contains("Jürgen Weiß and Zoë Brontë"));
}

#[tokio::test]
async fn pages_over_the_byte_limit_are_skipped() {
    let server = serve("crawl-content").await;
    let result = crawl_with(small_pages(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(
        skip_reason(&result, &server.url("/huge")),
        Some("too_large")
    );
    // Small on the wire, 300 KB decompressed: the limit counts decompressed bytes.
    assert_eq!(
        skip_reason(&result, &server.url("/huge-gzip")),
        Some("too_large")
    );
    assert!(result.pages.iter().all(|p| p.html.len() <= 32 * 1024));
    assert!(result.report.bytes_fetched < 6 * 32 * 1024);
}

#[tokio::test]
async fn a_home_page_over_the_limit_fails_the_crawl() {
    let server = serve("crawl-content").await;
    let config = CrawlConfig {
        max_page_bytes: 100,
        ..test_config()
    };
    let err = crawl_with(config, &server.url("/"))
        .await
        .expect_err("the home page is too large");
    assert!(
        err.message.contains("larger than the page size limit"),
        "{err}"
    );
}
