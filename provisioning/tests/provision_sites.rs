//! The whole pipeline over HTTP: each content fixture site served on loopback, crawled, extracted and
//! built into an agent spec, whose core facts must match the site's `expected.json`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::fs;

use dialtone_provisioning::{ProvisionRequest, Stage, provision, template_for};
use serde_json::Value;
use support::{serve, site_dir, test_config};

fn content_sites() -> Vec<String> {
    let root = site_dir("");
    let mut names: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("expected.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("crawl-"))
        .collect();
    names.sort();
    names
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        // Expectations write a service or person as a bare name or as an object with a name.
        .filter_map(|x| {
            x.as_str()
                .or_else(|| x.get("name")?.as_str())
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn every_content_site_becomes_an_agent_with_its_facts() {
    let crawler = dialtone_provisioning::Crawler::new(test_config()).unwrap();
    let sites = content_sites();
    assert!(sites.len() >= 8, "{sites:?}");
    for site in sites {
        let expected: Value = serde_json::from_str(
            &fs::read_to_string(site_dir(&site).join("expected.json")).unwrap(),
        )
        .unwrap();
        let server = serve(&site).await;
        let mut stages = Vec::new();
        let spec = provision(
            &ProvisionRequest {
                url: Some(server.url("/")),
                ..ProvisionRequest::default()
            },
            &crawler,
            &mut |s| stages.push(s),
        )
        .await
        .unwrap_or_else(|e| panic!("{site}: {e}"));
        assert_eq!(
            stages,
            [
                Stage::Research,
                Stage::Extract,
                Stage::KbBuild,
                Stage::Prompt
            ],
            "{site}"
        );

        let want = &expected["facts"];
        let got = serde_json::to_value(&spec.facts).unwrap();
        for key in ["business_name", "phones", "address", "hours"] {
            if !want[key].is_null() {
                assert_eq!(got[key], want[key], "{site}: {key}");
            }
        }
        for key in ["services", "staff"] {
            if !want[key].is_null() {
                assert_eq!(names(&got[key]), names(&want[key]), "{site}: {key}");
            }
        }
        for absent in expected["absent"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            assert!(
                got.get(absent).is_none(),
                "{site}: {absent} should be absent, got {:?}",
                got.get(absent)
            );
        }

        let business = want["business_name"].as_str().unwrap();
        assert_eq!(spec.name, business, "{site}");
        assert!(
            spec.greeting.contains(business),
            "{site}: {}",
            spec.greeting
        );
        if let Some(hint) = spec.report.vertical_hint {
            assert_eq!(spec.template_id, template_for(hint), "{site}");
        }
        assert!(!spec.knowledge.is_empty(), "{site}");
        assert!(
            spec.knowledge.iter().all(|k| k
                .source
                .as_deref()
                .is_some_and(|s| s.starts_with(server.origin()))),
            "{site}: knowledge cites the pages it came from"
        );
        assert!(
            spec.report
                .provenance
                .values()
                .all(|e| e.source.starts_with(server.origin())),
            "{site}: every fact cites a crawled page"
        );
    }
}

#[tokio::test]
async fn the_chosen_vertical_wins_over_the_guess() {
    let crawler = dialtone_provisioning::Crawler::new(test_config()).unwrap();
    let server = serve("dental-bright-smile").await;
    let spec = provision(
        &ProvisionRequest {
            url: Some(server.url("/")),
            vertical: Some("generic".into()),
            instructions: Some("Always mention our new Saturday hours start next month.".into()),
            name: None,
        },
        &crawler,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(spec.template_id, "generic");
    assert!(
        spec.system_prompt
            .contains("Saturday hours start next month")
    );
    assert!(spec.knowledge.iter().any(|k| k.title == "Instructions"));
}
