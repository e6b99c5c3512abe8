//! Redirects are followed by hand, hop by hop: the home page's chain moves the site's home, loops and
//! over-long chains stop, and every hop is checked against the site and the address policy.

mod support;

use support::{crawl_with, page_paths, serve, skip_reason, test_config};

#[tokio::test]
async fn home_redirect_chain_lands_on_the_real_home() {
    let server = serve("crawl-redirects").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(result.pages[0].url, server.url("/home"));
    assert_eq!(result.pages[0].depth, 0);
    assert!(result.pages[0].html.contains("Birch Clinic"));
    let requested = server.requested();
    assert_eq!(&requested[..4], ["/robots.txt", "/", "/start", "/home"]);
}

#[tokio::test]
async fn loops_and_long_chains_are_skipped() {
    let server = serve("crawl-redirects").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(
        skip_reason(&result, &server.url("/loop-a")),
        Some("redirect_loop")
    );
    assert_eq!(server.count("/loop-a"), 1);
    assert_eq!(server.count("/loop-b"), 1);
    assert_eq!(
        skip_reason(&result, &server.url("/chain-1")),
        Some("redirect_limit")
    );
    assert_eq!(server.count("/chain-6"), 1, "five redirects are followed");
    assert_eq!(server.count("/chain-7"), 0);
}

#[tokio::test]
async fn a_redirected_page_is_kept_under_its_final_url() {
    let server = serve("crawl-redirects").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    let paths = page_paths(&result, &server);
    assert_eq!(paths, ["/home", "/about", "/services"]);
    assert_eq!(server.count("/old-about"), 1);
    assert_eq!(server.count("/about"), 1);
}

#[tokio::test]
async fn redirect_hops_to_refused_addresses_are_not_followed() {
    let server = serve("crawl-redirects").await;
    let result = crawl_with(test_config(), &server.url("/"))
        .await
        .expect("the site crawls");
    assert_eq!(
        skip_reason(&result, &server.url("/go-metadata")),
        Some("blocked_address")
    );
}
