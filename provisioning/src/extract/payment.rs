//! How customers pay: insurers accepted, payment methods, financing. Known names are matched only where the
//! copy talks about paying or insurance, and list items under an insurance heading count as insurers.

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, norm_key};
use super::jsonld::{self, Graph};
use super::text::{BlockKind, Region, collapse};

const MAX_ITEMS: usize = 40;

/// (spelling to look for, canonical name). Longer spellings come first so "Delta Dental" wins over a
/// hypothetical "Delta".
const INSURERS: &[(&str, &str)] = &[
    ("blue cross blue shield", "Blue Cross Blue Shield"),
    ("bluecross blueshield", "Blue Cross Blue Shield"),
    (
        "regence bluecross blueshield",
        "Regence BlueCross BlueShield",
    ),
    ("delta dental", "Delta Dental"),
    ("metlife", "MetLife"),
    ("met life", "MetLife"),
    ("aetna", "Aetna"),
    ("cigna", "Cigna"),
    ("guardian", "Guardian"),
    ("unitedhealthcare", "UnitedHealthcare"),
    ("united healthcare", "UnitedHealthcare"),
    ("united concordia", "United Concordia"),
    ("blue cross", "Blue Cross"),
    ("blue shield", "Blue Shield"),
    ("bcbs", "Blue Cross Blue Shield"),
    ("anthem", "Anthem"),
    ("humana", "Humana"),
    ("kaiser permanente", "Kaiser Permanente"),
    ("medicare", "Medicare"),
    ("medicaid", "Medicaid"),
    ("tricare", "Tricare"),
    ("ameritas", "Ameritas"),
    ("regence", "Regence"),
    ("moda health", "Moda Health"),
    ("providence health plan", "Providence Health Plan"),
    ("pacificsource", "PacificSource"),
    ("oregon health plan", "Oregon Health Plan"),
    ("molina", "Molina"),
    ("sun life", "Sun Life"),
    ("careington", "Careington"),
    ("geha", "GEHA"),
    ("premera", "Premera"),
    ("health net", "Health Net"),
    ("highmark", "Highmark"),
    ("caresource", "CareSource"),
    ("ambetter", "Ambetter"),
    ("oscar health", "Oscar Health"),
    ("vsp", "VSP"),
    ("eyemed", "EyeMed"),
];

const METHODS: &[(&str, &str)] = &[
    ("american express", "American Express"),
    ("amex", "American Express"),
    ("mastercard", "Mastercard"),
    ("master card", "Mastercard"),
    ("visa", "Visa"),
    ("discover", "Discover"),
    ("apple pay", "Apple Pay"),
    ("google pay", "Google Pay"),
    ("paypal", "PayPal"),
    ("venmo", "Venmo"),
    ("zelle", "Zelle"),
    ("personal checks", "Check"),
    // "Check" alone is too often the verb ("check your benefits").
    ("checks", "Check"),
    ("cheques", "Check"),
    ("cash", "Cash"),
    ("debit cards", "Debit card"),
    ("debit card", "Debit card"),
    ("debit", "Debit card"),
    ("credit cards", "Credit card"),
    ("credit card", "Credit card"),
    ("hsa", "HSA"),
    ("fsa", "FSA"),
];

const FINANCING: &[(&str, &str)] = &[
    ("carecredit", "CareCredit"),
    ("care credit", "CareCredit"),
    ("sunbit", "Sunbit"),
    ("cherry", "Cherry"),
    ("affirm", "Affirm"),
    ("klarna", "Klarna"),
    ("lendingclub", "LendingClub"),
    ("lending club", "LendingClub"),
    ("proceed finance", "Proceed Finance"),
    ("greensky", "GreenSky"),
    ("alphaeon", "Alphaeon"),
    (
        "wells fargo health advantage",
        "Wells Fargo Health Advantage",
    ),
    ("in-house payment plans", "In-house payment plans"),
    ("in-house payment plan", "In-house payment plans"),
    ("payment plans", "Payment plans"),
    ("payment plan", "Payment plans"),
    ("in-house financing", "In-house financing"),
];

/// Whole-word, case-insensitive occurrences of dictionary spellings, longest first, without overlaps.
fn dictionary_hits(text: &str, dict: &[(&str, &'static str)]) -> Vec<(usize, &'static str)> {
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; positions are only used for ordering.
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    let mut sorted: Vec<&(&str, &'static str)> = dict.iter().collect();
    sorted.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    for (spelling, canonical) in sorted {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(spelling) {
            let start = from + pos;
            let end = start + spelling.len();
            from = end;
            let before = lower[..start].chars().next_back();
            let after = lower[end..].chars().next();
            let boundary = !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric);
            if !boundary || taken.iter().any(|(a, b)| start < *b && *a < end) {
                continue;
            }
            taken.push((start, end));
            out.push((start, *canonical));
        }
    }
    out.sort_by_key(|(p, _)| *p);
    out
}

/// A list item that reads as a name: a few words, capitalised, not a sentence.
fn list_name(text: &str) -> Option<String> {
    let name = collapse(text);
    let words = name.split_whitespace().count();
    ((1..=5).contains(&words)
        && !name.ends_with('.')
        && name.chars().next().is_some_and(char::is_uppercase))
    .then_some(name)
}

fn is_negated(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "do not accept",
        "don't accept",
        "does not accept",
        "not in-network",
        "not in network",
        "out-of-network",
        "out of network",
        "not contracted",
        "no longer accept",
        "not participate",
    ]
    .iter()
    .any(|w| t.contains(w))
}

#[derive(Default)]
struct Votes {
    insurers: Ballot<String>,
    methods: Ballot<String>,
    financing: Ballot<String>,
}

/// The three payment lists with evidence.
#[derive(Debug, Default)]
pub(crate) struct PaymentFound {
    pub insurers: Vec<Found<String>>,
    pub methods: Vec<Found<String>>,
    pub financing: Vec<Found<String>>,
}

pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> PaymentFound {
    let mut v = Votes::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for key in ["paymentAccepted", "acceptedPaymentMethod"] {
            for p in graph.prop(node, key) {
                let Some(t) = jsonld::text(p).or_else(|| jsonld::types(p).first().cloned()) else {
                    continue;
                };
                let snippet = format!("{} {key} {t}", jsonld::snippet(node));
                for piece in t.split([',', ';']) {
                    let piece = collapse(jsonld::local_name(piece));
                    let known = dictionary_hits(&piece, METHODS);
                    if known.is_empty() && !piece.is_empty() {
                        v.methods.add(
                            norm_key(&piece),
                            piece.clone(),
                            STRUCTURED,
                            true,
                            url,
                            &snippet,
                        );
                    }
                    for (_, m) in known {
                        v.methods
                            .add(norm_key(m), m.to_owned(), STRUCTURED, true, url, &snippet);
                    }
                }
            }
        }
    }
    for doc in docs {
        from_doc(doc, &mut v);
    }
    PaymentFound {
        insurers: v.insurers.items(0.5, MAX_ITEMS),
        methods: v.methods.items(0.5, MAX_ITEMS),
        financing: v.financing.items(0.5, MAX_ITEMS),
    }
}

fn from_doc(doc: &Doc, v: &mut Votes) {
    for (i, b) in doc.text.blocks.iter().enumerate() {
        if b.region == Region::Nav || b.quoted || is_negated(&b.text) {
            continue;
        }
        let headings: Vec<String> = doc
            .text
            .headings_above(i)
            .map(|h| h.text.to_lowercase())
            .collect();
        let lower = b.text.to_lowercase();
        let insurance_heading = headings.first().is_some_and(|h| {
            h.contains("insur") || h.contains("plans we accept") || h.contains("in-network")
        });
        let payment_heading = headings
            .iter()
            .take(2)
            .any(|h| h.contains("pay") || h.contains("financ") || h.contains("billing"));
        let insurance_ctx = insurance_heading
            || doc.topic.payment
            || lower.contains("insur")
            || lower.contains("in-network")
            || lower.contains("plans");
        let payment_ctx = payment_heading
            || doc.topic.payment
            || ["pay", "accept", "card", "financ", "tender"]
                .iter()
                .any(|w| lower.contains(w));
        // The insurance or payment page (or section) is where a business states these on purpose.
        let on_topic = doc.topic.payment || insurance_heading || payment_heading;
        let w = doc.weight(b.region, false) * if on_topic { 2.0 } else { 1.0 };
        let strong = doc.strong(b.region, false);
        // A short item in a list under an insurance heading is one plan's name, even when it contains a
        // known name ("Premera Blue Cross" is not Premera plus Blue Cross).
        let is_payment_word = |t: &str| {
            !dictionary_hits(t, METHODS).is_empty() || !dictionary_hits(t, FINANCING).is_empty()
        };
        if insurance_heading
            && b.kind == BlockKind::ListItem
            && !is_payment_word(&b.text)
            && let Some(name) = list_name(&b.text)
        {
            let canonical = dictionary_hits(&name, INSURERS)
                .into_iter()
                .find(|(_, c)| norm_key(c) == norm_key(&name))
                .map_or(name.clone(), |(_, c)| c.to_owned());
            v.insurers.add(
                norm_key(&canonical),
                canonical,
                w,
                strong,
                &doc.url,
                &b.text,
            );
            continue;
        }
        if payment_ctx || insurance_ctx {
            for (_, f) in dictionary_hits(&b.text, FINANCING) {
                v.financing
                    .add(norm_key(f), f.to_owned(), w, strong, &doc.url, &b.text);
            }
        }
        if payment_ctx {
            for (_, m) in dictionary_hits(&b.text, METHODS) {
                v.methods
                    .add(norm_key(m), m.to_owned(), w, strong, &doc.url, &b.text);
            }
        }
        if insurance_ctx {
            for (_, ins) in dictionary_hits(&b.text, INSURERS) {
                v.insurers
                    .add(norm_key(ins), ins.to_owned(), w, strong, &doc.url, &b.text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(html: &str) -> PaymentFound {
        let (doc, parsed) = Doc::parse("http://x.test/", 0, html, true);
        let mut g = Graph::default();
        for v in jsonld::scripts(&parsed) {
            g.add(0, v);
        }
        extract(&[doc], &g)
    }

    fn names(f: &[Found<String>]) -> Vec<&str> {
        f.iter().map(|f| f.value.as_str()).collect()
    }

    #[test]
    fn insurers_methods_and_financing_from_copy() {
        let p = run(
            "<main><h2>Insurance</h2><p>We're in-network with Delta Dental, MetLife and Cigna.</p>\
             <ul><li>Regence BlueCross BlueShield</li><li>Willamette Dental Group</li></ul>\
             <h2>Payment options</h2><p>We accept cash, checks, Visa, MasterCard and Amex. Financing through CareCredit.</p></main>",
        );
        assert_eq!(
            names(&p.insurers),
            [
                "Delta Dental",
                "MetLife",
                "Cigna",
                "Regence BlueCross BlueShield",
                "Willamette Dental Group"
            ]
        );
        assert_eq!(
            names(&p.methods),
            ["Cash", "Check", "Visa", "Mastercard", "American Express"]
        );
        assert_eq!(names(&p.financing), ["CareCredit"]);
    }

    #[test]
    fn out_of_context_and_negated_mentions_do_not_count() {
        let p = run(
            "<main><p>We love the Visa Street festival and cash mobs.</p>\
             <p>Please note: we do not accept Aetna or Cigna.</p></main>",
        );
        assert!(p.insurers.is_empty(), "{:?}", p.insurers);
        assert!(p.methods.is_empty(), "{:?}", p.methods);
    }

    #[test]
    fn structured_payment_accepted() {
        let p = run(
            r#"<script type="application/ld+json">{"@type":"Plumber","paymentAccepted":"Cash, Credit Card, Invoice"}</script>"#,
        );
        assert_eq!(names(&p.methods), ["Cash", "Credit card", "Invoice"]);
    }
}
