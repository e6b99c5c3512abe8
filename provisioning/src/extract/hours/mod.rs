//! Opening hours from structured data, tables and prose, voted per day.

pub mod prose;
pub(crate) mod spec;

use std::collections::BTreeMap;

use super::doc::Doc;
use super::evidence::{Ballot, Evidence, Found, STRUCTURED};
use super::jsonld::{self, Graph};
use super::text::{BlockKind, Region};
use crate::facts::{DayHours, Weekday};

/// Hours per day with evidence, and whether the site says visits are by appointment.
#[derive(Debug, Default)]
pub(crate) struct Hours {
    pub days: BTreeMap<Weekday, Found<DayHours>>,
    pub by_appointment: Option<Evidence>,
}

/// Words that mark hours other than the regular week.
fn is_special(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "holiday",
        "thanksgiving",
        "christmas",
        "new year",
        "summer hours",
        "winter hours",
        "seasonal",
        "memorial day",
        "labor day",
        "happy hour",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The text without sentences about emergency service: "Emergency service 24/7" states when help can be
/// reached, not when the business is open.
fn without_emergency(text: &str) -> String {
    if !text.to_lowercase().contains("emergenc") {
        return text.to_owned();
    }
    super::emergency::sentences(text)
        .into_iter()
        .filter(|s| !s.to_lowercase().contains("emergenc"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Default)]
struct Votes {
    per_day: BTreeMap<Weekday, Ballot<DayHours>>,
    appointment: Option<Evidence>,
}

impl Votes {
    fn add(&mut self, parsed: &prose::Parsed, weight: f32, strong: bool, url: &str, snippet: &str) {
        for (d, h) in &parsed.days {
            self.per_day.entry(*d).or_default().add(
                h.to_string(),
                h.clone(),
                weight,
                strong,
                url,
                snippet,
            );
        }
        if parsed.by_appointment && self.appointment.is_none() && weight >= 0.5 {
            self.appointment = Some(Evidence {
                source: url.to_owned(),
                snippet: super::evidence::short_snippet(snippet),
                confidence: 0.6,
            });
        }
    }
}

pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> Hours {
    let mut votes = Votes::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for (d, h) in spec::from_node(graph, node) {
            let snippet = format!("{} openingHours {}: {h}", jsonld::snippet(node), d.key());
            votes.per_day.entry(d).or_default().add(
                h.to_string(),
                h,
                STRUCTURED,
                true,
                url,
                &snippet,
            );
        }
    }
    for doc in docs {
        from_tables(doc, &mut votes);
        from_blocks(doc, &mut votes);
    }
    let mut out = Hours {
        by_appointment: votes.appointment,
        ..Hours::default()
    };
    for (d, ballot) in votes.per_day {
        if let Some(found) = ballot.winner(0.0) {
            out.days.insert(d, found);
        }
    }
    out
}

fn from_tables(doc: &Doc, votes: &mut Votes) {
    for t in &doc.tables {
        if t.quoted || is_special(&t.caption) {
            continue;
        }
        let boost = if t.caption.contains("hour") { 1.5 } else { 1.0 };
        let w = doc.weight(t.region, false) * boost;
        for row in &t.rows {
            let line = row.join(" ");
            if row.len() < 2 || is_special(&line) || line.to_lowercase().contains("emergenc") {
                continue;
            }
            let parsed = prose::parse(&line);
            votes.add(&parsed, w, doc.strong(t.region, false), &doc.url, &line);
        }
    }
}

fn from_blocks(doc: &Doc, votes: &mut Votes) {
    let blocks = &doc.text.blocks;
    let mut i = 0;
    while i < blocks.len() {
        let b = &blocks[i];
        i += 1;
        // Table cells were read row by row above; quoted text is someone else's.
        if b.kind == BlockKind::Cell || b.quoted || b.region == Region::Nav {
            continue;
        }
        let under = doc
            .text
            .headings_above(i - 1)
            .next()
            .map(|h| h.text.to_lowercase());
        let under_hours = under
            .as_deref()
            .is_some_and(|h| h.contains("hour") || h.contains("open"));
        if is_special(&b.text) || under.as_deref().is_some_and(is_special) {
            continue;
        }
        // A long sentence in body copy that never mentions opening is more likely an event or a story
        // ("join us Saturday 10-2") than the business's hours.
        let lower = b.text.to_lowercase();
        let hoursy = under_hours
            || b.text.len() <= 100
            || lower.contains("hour")
            || lower.contains("open")
            || lower.contains("closed");
        if !hoursy {
            continue;
        }
        let mut text = without_emergency(&b.text);
        let mut parsed = prose::parse(&text);
        // "Monday - Friday" in one element and "8:00 - 5:00" in the next.
        if parsed.dangling
            && let Some(next) = blocks
                .get(i)
                .filter(|n| n.region == b.region && n.kind != BlockKind::Cell)
        {
            let joined = format!("{text} {}", next.text);
            let p = prose::parse(&joined);
            if !p.days.is_empty() {
                parsed = p;
                text = joined;
                i += 1;
            }
        }
        if parsed.days.is_empty() && !parsed.by_appointment {
            continue;
        }
        let boost = if under_hours || doc.topic.hours {
            1.5
        } else {
            1.0
        };
        let w = doc.weight(b.region, false) * boost;
        votes.add(&parsed, w, doc.strong(b.region, false), &doc.url, &text);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(pages: &[(&str, &str)]) -> Hours {
        let mut graph = Graph::default();
        let docs: Vec<Doc> = pages
            .iter()
            .enumerate()
            .map(|(i, (url, html))| {
                let (d, parsed) = Doc::parse(url, u32::from(i > 0), html, i == 0);
                for v in jsonld::scripts(&parsed) {
                    graph.add(i, v);
                }
                d
            })
            .collect();
        extract(&docs, &graph)
    }

    #[test]
    fn footer_hours_beat_a_stray_mention() {
        let footer = "<footer><p>Mon-Fri 8am-5pm</p><p>Closed weekends</p></footer>";
        let h = run(&[
            (
                "http://x.test/",
                &format!("<main><p>Welcome</p></main>{footer}"),
            ),
            (
                "http://x.test/blog/",
                &format!("<main><p>Our open house is Friday 5pm-8pm.</p></main>{footer}"),
            ),
        ]);
        assert_eq!(h.days[&Weekday::Friday].value.to_string(), "08:00-17:00");
        assert_eq!(h.days[&Weekday::Sunday].value, DayHours::Closed);
        assert!(h.days[&Weekday::Friday].evidence.confidence > 0.5);
    }

    #[test]
    fn tables_and_split_elements() {
        let h = run(&[(
            "http://x.test/contact/",
            "<h2>Office Hours</h2><table><tr><td>Monday</td><td>7:30 AM</td><td>4:00 PM</td></tr>\
             <tr><td>Holiday hours</td><td>10-2</td></tr></table>\
             <dl><dt>Tuesday</dt><dd>9:00 - 5:00</dd></dl>",
        )]);
        assert_eq!(h.days[&Weekday::Monday].value.to_string(), "07:30-16:00");
        assert_eq!(h.days[&Weekday::Tuesday].value.to_string(), "09:00-17:00");
        assert_eq!(h.days.len(), 2);
    }

    #[test]
    fn structured_hours_count_and_unmentioned_days_stay_absent() {
        let h = run(&[(
            "http://x.test/",
            r#"<script type="application/ld+json">{"@type":"Dentist","openingHours":"Mo-Th 08:00-17:00"}</script>
               <p>Saturday: by appointment</p>"#,
        )]);
        assert_eq!(h.days.len(), 4);
        assert!(!h.days.contains_key(&Weekday::Friday));
        assert!(h.by_appointment.is_some());
    }
}
