//! Feeds arbitrary bytes to the parsers a crawled website reaches: robots.txt, sitemaps, and fact
//! extraction plus knowledge sections over HTML pages (the input split on 0xFF into pages, decoded
//! lossily as the crawler's charset step would). Nothing may panic.

#![no_main]

use dialtone_provisioning::crawl::robots::Robots;
use dialtone_provisioning::crawl::sitemap;
use dialtone_provisioning::extract::sections;
use dialtone_provisioning::{Page, extract, kb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let robots = Robots::parse(&text, "DialtoneBot");
    let _ = robots.allows_path("/about");
    let _ = sitemap::parse(&text, 100);
    let pages: Vec<Page> = data
        .split(|&b| b == 0xFF)
        .take(8)
        .enumerate()
        .map(|(i, chunk)| Page {
            url: format!("http://fuzz.test/p{i}/"),
            depth: u32::from(i > 0),
            html: String::from_utf8_lossy(chunk).into_owned(),
        })
        .collect();
    let found = extract(&pages);
    let _ = serde_json::to_string(&found.facts);
    let _ = kb::chunk(&sections(&pages));
});
