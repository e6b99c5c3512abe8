//! robots.txt and sitemaps: disallowed sections are never requested, DialtoneBot's own group wins over
//! `*`, Allow beats a shorter Disallow, and sitemap indexes lead to the pages of their sitemaps.

mod support;

use support::{crawl_with, page_paths, serve, skip_reason, test_config};

#[tokio::test]
async fn disallowed_pages_are_never_requested() {
    let server = serve("crawl-robots").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    for path in [
        "/private/secret.html",
        "/staff-only",
        "/private/from-sitemap.html",
    ] {
        assert_eq!(
            skip_reason(&result, &server.url(path)),
            Some("robots"),
            "{path}"
        );
        assert_eq!(server.count(path), 0, "{path} was requested");
    }
    let paths = page_paths(&result, &server);
    // Allowed by a longer Allow inside a disallowed section.
    assert!(
        paths.contains(&"/private/hours.html".to_owned()),
        "{paths:?}"
    );
    // Disallowed for `*` only: DialtoneBot's own group replaces the wildcard group.
    assert!(paths.contains(&"/admin".to_owned()), "{paths:?}");
    assert_eq!(server.count("/robots.txt"), 1);
}

#[tokio::test]
async fn sitemap_named_in_robots_leads_through_its_index() {
    let server = serve("crawl-robots").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert!(result.report.sitemap_found);
    for path in [
        "/maps/sitemap_index.xml",
        "/maps/pages.xml",
        "/maps/practice.xml",
    ] {
        assert_eq!(server.count(path), 1, "{path}");
    }
    assert_eq!(
        server.count("/sitemap.xml"),
        0,
        "robots.txt named the sitemap"
    );
    let paths = page_paths(&result, &server);
    for path in [
        "/about",
        "/pricing",
        "/practice-areas/wills",
        "/practice-areas/trusts",
    ] {
        assert!(
            paths.contains(&path.to_owned()),
            "{path} missing from {paths:?}"
        );
    }
    let wills = result
        .pages
        .iter()
        .find(|p| p.url.ends_with("/practice-areas/wills"))
        .expect("kept");
    assert_eq!(wills.depth, 1, "sitemap pages count as depth 1");
    assert_eq!(
        skip_reason(&result, "https://cdn.example.net/elsewhere"),
        Some("off_site")
    );
    assert_eq!(
        paths.iter().filter(|p| *p == "/").count(),
        1,
        "the sitemap's home entry is the home page"
    );
}

#[tokio::test]
async fn default_sitemap_index_with_nested_index_and_a_missing_sitemap() {
    let server = serve("crawl-sitemap").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert!(result.report.sitemap_found);
    // The home page links nowhere: every other page comes from the sitemaps.
    assert_eq!(
        page_paths(&result, &server),
        ["/", "/contact", "/doctors", "/gallery"]
    );
    assert_eq!(
        skip_reason(&result, &server.url("/sitemaps/missing.xml")),
        Some("http_404"),
        "a sitemap the index lists but the site lacks is reported"
    );
    assert_eq!(server.count("/sitemaps/doctors.xml"), 1);
}

#[tokio::test]
async fn missing_robots_and_sitemap_mean_no_rules_and_no_noise() {
    let server = serve("crawl-links").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert!(!result.report.sitemap_found);
    assert_eq!(server.count("/sitemap.xml"), 1);
    assert_eq!(skip_reason(&result, &server.url("/sitemap.xml")), None);
    assert_eq!(skip_reason(&result, &server.url("/robots.txt")), None);
}
