//! Which vertical template fits: schema.org business types first, then the vocabulary of the copy.

use serde::{Deserialize, Serialize};

use super::doc::Doc;
use super::evidence::{Evidence, round2};
use super::jsonld::{self, Graph};
use super::text::Region;

/// The verticals that have templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vertical {
    /// Dentists and orthodontists.
    Dental,
    /// Clinics and physicians.
    Medical,
    /// Salons and spas.
    SalonSpa,
    /// Plumbers, electricians, HVAC, contractors.
    HomeServices,
    /// Law firms and legal services.
    Legal,
    /// Restaurants, cafés, bars.
    Restaurant,
}

const ALL: [Vertical; 6] = [
    Vertical::Dental,
    Vertical::Medical,
    Vertical::SalonSpa,
    Vertical::HomeServices,
    Vertical::Legal,
    Vertical::Restaurant,
];

fn of_type(t: &str) -> Option<Vertical> {
    Some(match t {
        "Dentist" => Vertical::Dental,
        "MedicalBusiness"
        | "MedicalClinic"
        | "MedicalOrganization"
        | "Physician"
        | "Hospital"
        | "Optician"
        | "Physiotherapy"
        | "Pharmacy" => Vertical::Medical,
        "HealthAndBeautyBusiness"
        | "BeautySalon"
        | "HairSalon"
        | "DaySpa"
        | "NailSalon"
        | "TattooParlor" => Vertical::SalonSpa,
        "HomeAndConstructionBusiness"
        | "Plumber"
        | "Electrician"
        | "HVACBusiness"
        | "GeneralContractor"
        | "RoofingContractor"
        | "Locksmith"
        | "HousePainter"
        | "MovingCompany" => Vertical::HomeServices,
        "LegalService" | "Attorney" | "Notary" => Vertical::Legal,
        "FoodEstablishment" | "Restaurant" | "CafeOrCoffeeShop" | "Bakery" | "BarOrPub"
        | "FastFoodRestaurant" | "Winery" | "Brewery" | "IceCreamShop" => Vertical::Restaurant,
        _ => return None,
    })
}

fn words(v: Vertical) -> &'static [&'static str] {
    match v {
        Vertical::Dental => &[
            "dentist",
            "dental",
            "teeth",
            "tooth",
            "hygienist",
            "orthodont",
            "cavity",
            "implant",
            "whitening",
            "crown",
        ],
        Vertical::Medical => &[
            "patient",
            "physician",
            "clinic",
            "primary care",
            "pediatric",
            "urgent care",
            "medical",
            "health care",
            "healthcare",
            "vaccin",
        ],
        Vertical::SalonSpa => &[
            "salon", "spa", "haircut", "massage", "facial", "manicure", "pedicure", "stylist",
            "color", "blowout", "wax",
        ],
        Vertical::HomeServices => &[
            "plumb",
            "hvac",
            "drain",
            "water heater",
            "electrician",
            "roof",
            "furnace",
            "air condition",
            "sewer",
            "leak",
            "contractor",
        ],
        Vertical::Legal => &[
            "attorney",
            "law firm",
            "legal",
            "lawyer",
            "litigation",
            "counsel",
            "estate planning",
            "injury",
            "court",
            "probate",
        ],
        Vertical::Restaurant => &[
            "menu",
            "reservation",
            "dine",
            "dining",
            "cuisine",
            "brunch",
            "chef",
            "dinner",
            "appetizer",
            "entree",
            "dessert",
            "wine",
        ],
    }
}

/// Occurrences of `w` at the start of a word ("spa" in "day spa", not in "space" or "Spanish" — though
/// still in "spas").
fn word_starts(text: &str, w: &str) -> usize {
    text.match_indices(w)
        .filter(|(i, _)| {
            !text[..*i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        })
        .filter(|(i, _)| {
            // Short stems must also end the word, or "spa" would count "spanish".
            w.len() > 4
                || !text[i + w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() && c != 's')
        })
        .count()
}

/// The best-fitting vertical, if one stands out, with its evidence.
pub(crate) fn guess(docs: &[Doc], graph: &Graph) -> Option<(Vertical, Evidence)> {
    let mut scores = [0.0f32; 6];
    let mut why: [Option<(String, String)>; 6] = Default::default();
    for (page, node) in graph.businesses() {
        for t in jsonld::types(node) {
            if let Some(v) = of_type(&t) {
                let i = ALL.iter().position(|a| *a == v).unwrap_or(0);
                scores[i] += 10.0;
                let url = docs.get(page).map_or("", |d| d.url.as_str()).to_owned();
                why[i].get_or_insert((url, format!("schema.org type {t}")));
            }
        }
    }
    let mut text = String::new();
    for d in docs {
        text.push_str(&d.title.clone().unwrap_or_default().to_lowercase());
        text.push('\n');
        for b in d
            .text
            .blocks
            .iter()
            .filter(|b| b.region != Region::Nav && !b.quoted)
        {
            text.push_str(&b.text.to_lowercase());
            text.push('\n');
        }
    }
    let hits: Vec<usize> = ALL
        .iter()
        .map(|v| words(*v).iter().map(|w| word_starts(&text, w)).sum())
        .collect();
    let total_hits = hits.iter().sum::<usize>().max(1) as f32;
    // Vocabulary counts as a share of all vertical vocabulary, capped below one schema type, so a long site
    // does not outvote its own structured data and a short one still gets a hint.
    let support = (total_hits / 5.0).min(1.0);
    for (i, v) in ALL.iter().enumerate() {
        scores[i] += 8.0 * hits[i] as f32 / total_hits * support;
        if hits[i] > 0 && why[i].is_none() {
            let url = docs.first().map_or("", |d| d.url.as_str()).to_owned();
            let seen: Vec<&str> = words(*v)
                .iter()
                .filter(|w| word_starts(&text, w) > 0)
                .copied()
                .collect();
            why[i] = Some((
                url,
                format!(
                    "{} vertical words in the copy: {}",
                    hits[i],
                    seen.join(", ")
                ),
            ));
        }
    }
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let (best, second) = (scores[order[0]], scores[order[1]]);
    // Weak or tied vocabulary says nothing; without a schema type, a handful of words must agree.
    let typed = best >= 10.0;
    if best < 1.0 || best < second * 1.3 || (!typed && hits[order[0]] < 3) {
        return None;
    }
    let (source, snippet) = why[order[0]].clone().unwrap_or_default();
    let confidence = round2((best - second) / best * 0.6 + if best >= 10.0 { 0.35 } else { 0.1 });
    Some((
        ALL[order[0]],
        Evidence {
            source,
            snippet,
            confidence,
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn guess_for(html: &str) -> Option<Vertical> {
        let (d, parsed) = Doc::parse("http://x.test/", 0, html, true);
        let mut g = Graph::default();
        for v in jsonld::scripts(&parsed) {
            g.add(0, v);
        }
        guess(&[d], &g).map(|(v, _)| v)
    }

    #[test]
    fn schema_types_decide() {
        assert_eq!(
            guess_for(
                r#"<script type="application/ld+json">{"@type":"Dentist"}</script><p>Our patients love our clinic.</p>"#
            ),
            Some(Vertical::Dental)
        );
    }

    #[test]
    fn vocabulary_decides_without_schema() {
        assert_eq!(
            guess_for(
                "<p>Licensed plumbers for drain cleaning, water heater repair and leak detection.</p>"
            ),
            Some(Vertical::HomeServices)
        );
        assert_eq!(
            guess_for("<p>Our attorneys offer estate planning and probate counsel.</p>"),
            Some(Vertical::Legal)
        );
        assert_eq!(guess_for("<p>We sell bicycles.</p>"), None);
    }
}
