//! Extraction on every content fixture site (`tests/fixtures/sites/<name>/`, not the crawler's `crawl-*`),
//! compared with the site's `expected.json`. Prints a per-field accuracy table (fields × sites) and fails on
//! any mismatch in a field the site marks `required`, or on a field it marks `absent` being present.
//!
//! `expected.json`: `facts` in the stable `provision --json` shape, plus `tone`, `vertical_hint`,
//! `languages`, `by_appointment`, and the lists `required` and `absent` of field names.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use dialtone_provisioning::Page;
use dialtone_provisioning::extract::{Extraction, extract};
use dialtone_provisioning::facts::Facts;
use serde_json::Value;

const FIELDS: &[&str] = &[
    "business_name",
    "phones",
    "address",
    "hours",
    "services",
    "staff",
    "payment",
    "emergency",
    "email",
    "website",
    "tone",
    "vertical_hint",
    "languages",
    "by_appointment",
];

fn sites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites")
}

/// Content fixture sites: every directory with an `expected.json`, the crawler's `crawl-*` excluded.
fn site_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(sites_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("expected.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("crawl-"))
        .collect();
    names.sort();
    names
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            html_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push(p);
        }
    }
}

/// The site's pages as the crawler would hand them over: `dir/index.html` served at `/dir/`, home first,
/// then by depth and path.
fn load_site(name: &str) -> Vec<Page> {
    let root = sites_dir().join(name);
    let mut files = Vec::new();
    html_files(&root, &mut files);
    let mut pages: Vec<Page> = files
        .iter()
        .map(|f| {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let path = match rel.strip_suffix("index.html") {
                Some(dir) => format!("/{dir}"),
                None => format!("/{rel}"),
            };
            let depth = path
                .trim_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .count() as u32;
            Page {
                url: format!("http://fixture.test{path}"),
                depth,
                html: fs::read_to_string(f).unwrap(),
            }
        })
        .collect();
    pages.sort_by(|a, b| (a.depth, &a.url).cmp(&(b.depth, &b.url)));
    pages
}

fn f1(want: &BTreeSet<String>, got: &BTreeSet<String>) -> f64 {
    if want.is_empty() && got.is_empty() {
        return 1.0;
    }
    let hit = want.intersection(got).count() as f64;
    if hit == 0.0 {
        return 0.0;
    }
    let (p, r) = (hit / got.len() as f64, hit / want.len() as f64);
    2.0 * p * r / (p + r)
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

/// Whether the extraction has a value for a field.
fn present(field: &str, got: &Value) -> bool {
    match got.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(b)) => *b,
        Some(_) => true,
    }
}

/// Score of one field in 0..1, 1 meaning an exact match.
fn score(field: &str, want: &Value, got: &Value) -> f64 {
    let (w, g) = (&want[field], &got[field]);
    match field {
        "services" => {
            // Names are compared as a set; a price or description the expectation states must match too.
            let names = |v: &Value| -> BTreeSet<String> {
                v.as_array()
                    .map(|a| a.iter().map(|s| s["name"].to_string()).collect())
                    .unwrap_or_default()
            };
            let mut s = f1(&names(w), &names(g));
            for ws in w.as_array().into_iter().flatten() {
                let gs = g
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["name"] == ws["name"]);
                for k in ["price", "description"] {
                    if !ws[k].is_null() && gs.is_none_or(|gs| gs[k] != ws[k]) {
                        s = s.min(0.99);
                    }
                }
            }
            s
        }
        "staff" | "languages" => f1(&set_of(w), &set_of(g)),
        "payment" => {
            let tagged = |v: &Value| -> BTreeSet<String> {
                ["insurers", "methods", "financing"]
                    .iter()
                    .flat_map(|k| set_of(&v[*k]).into_iter().map(move |x| format!("{k}:{x}")))
                    .collect()
            };
            f1(&tagged(w), &tagged(g))
        }
        "hours" => {
            let same = [
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ]
            .iter()
            .filter(|d| w.get(**d) == g.get(**d))
            .count();
            same as f64 / 7.0
        }
        _ => f64::from(u8::from(w == g)),
    }
}

/// The extraction flattened to one JSON object of the compared fields.
fn actual(e: &Extraction) -> Value {
    let mut v = serde_json::to_value(&e.facts).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.insert("tone".into(), serde_json::to_value(e.tone.tone).unwrap());
    obj.insert(
        "vertical_hint".into(),
        serde_json::to_value(e.vertical_hint).unwrap(),
    );
    obj.insert(
        "languages".into(),
        serde_json::to_value(&e.languages).unwrap(),
    );
    obj.insert("by_appointment".into(), Value::Bool(e.by_appointment));
    v
}

/// The expectation flattened the same way, with the facts normalised through `Facts` so the shorthand
/// forms (a bare string for a service) compare equal to the canonical ones.
fn wanted(exp: &Value) -> Value {
    let facts: Facts = serde_json::from_value(exp["facts"].clone()).unwrap();
    let mut v = serde_json::to_value(&facts).unwrap();
    let obj = v.as_object_mut().unwrap();
    for k in ["tone", "vertical_hint", "languages", "by_appointment"] {
        if let Some(x) = exp.get(k) {
            obj.insert(k.into(), x.clone());
        }
    }
    v
}

fn list(exp: &Value, key: &str) -> Vec<String> {
    exp[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn fixture_sites_yield_their_expected_facts() {
    let sites = site_names();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut failures = Vec::new();
    for site in &sites {
        let exp: Value = serde_json::from_str(
            &fs::read_to_string(sites_dir().join(site).join("expected.json")).unwrap(),
        )
        .unwrap();
        let pages = load_site(site);
        let extraction = extract(&pages);
        let got = actual(&extraction);
        let want = wanted(&exp);
        let (required, absent) = (list(&exp, "required"), list(&exp, "absent"));
        let mut column = Vec::new();
        for field in FIELDS {
            let cell = if absent.iter().any(|a| a == field) {
                if present(field, &got) {
                    failures.push(format!(
                        "{site}: {field} must be absent, got {}",
                        got[*field]
                    ));
                    "FOUND".to_owned()
                } else {
                    "absent".to_owned()
                }
            } else if want.get(*field).is_some() {
                let s = score(field, &want, &got);
                if s < 1.0 && required.iter().any(|r| r == field) {
                    failures.push(format!(
                        "{site}: {field}\n    want {}\n    got  {}",
                        want[*field], got[*field]
                    ));
                }
                format!("{s:.2}")
            } else {
                "·".to_owned()
            };
            column.push(cell);
        }
        // Every fact carries evidence.
        for key in extraction.provenance.keys() {
            assert!(
                !extraction.provenance[key].source.is_empty(),
                "{site}: {key} has no source"
            );
        }
        table.push(column);
    }
    print_table(&sites, &table);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sites.len() >= 9, "content fixture sites missing: {sites:?}");
}

fn print_table(sites: &[String], table: &[Vec<String>]) {
    let short: Vec<String> = sites
        .iter()
        .map(|s| s.split('-').next().unwrap_or(s).chars().take(8).collect())
        .collect();
    let mut out = format!("\n{:<15}", "field");
    for s in &short {
        out.push_str(&format!("{s:>9}"));
    }
    out.push_str(&format!("{:>9}\n", "mean"));
    for (i, field) in FIELDS.iter().enumerate() {
        out.push_str(&format!("{field:<15}"));
        let mut scores = Vec::new();
        for col in table {
            out.push_str(&format!("{:>9}", col[i]));
            match col[i].as_str() {
                "absent" => scores.push(1.0),
                "FOUND" => scores.push(0.0),
                s => scores.extend(s.parse::<f64>().ok()),
            }
        }
        let mean = if scores.is_empty() {
            String::from("·")
        } else {
            format!("{:.2}", scores.iter().sum::<f64>() / scores.len() as f64)
        };
        out.push_str(&format!("{mean:>9}\n"));
    }
    out.push_str("sites: ");
    out.push_str(&sites.join(", "));
    println!("{out}");
}

#[test]
fn pages_load_home_first_with_crawler_urls() {
    let pages = load_site("dental-bright-smile");
    assert_eq!(pages[0].url, "http://fixture.test/");
    assert_eq!(pages[0].depth, 0);
    assert!(
        pages
            .iter()
            .any(|p| p.url == "http://fixture.test/about/" && p.depth == 1)
    );
}

/// Prints a site's whole extraction: `FIXTURE_SITE=salon-willow-fern cargo test -p dialtone-provisioning
/// --test extract_fixtures dump -- --ignored --nocapture`.
#[test]
#[ignore = "prints one site's extraction for inspection"]
fn dump() {
    let site = std::env::var("FIXTURE_SITE").unwrap_or_else(|_| "dental-bright-smile".into());
    let e = extract(&load_site(&site));
    println!("{}", serde_json::to_string_pretty(&e).unwrap());
}
