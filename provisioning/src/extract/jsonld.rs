//! schema.org data as JSON: JSON-LD scripts read here, microdata and RDFa converted to the same shape by
//! `microdata.rs`, and helpers to read properties whatever way a site spelled them (`@graph`, arrays,
//! `@type` arrays, `schema:` prefixes, `{"@id": ...}` references).

use std::collections::HashMap;

use scraper::{Html, Selector};
use serde_json::Value;

/// Caps so a hostile script cannot make flattening expensive.
const MAX_NODES: usize = 2_000;
const MAX_DEPTH: usize = 24;

/// schema.org types that describe the business itself (LocalBusiness and the subtypes sites use).
const BUSINESS_TYPES: &[&str] = &[
    "LocalBusiness",
    "Organization",
    "Corporation",
    "ProfessionalService",
    "MedicalBusiness",
    "MedicalOrganization",
    "MedicalClinic",
    "Physician",
    "Dentist",
    "Hospital",
    "Optician",
    "Pharmacy",
    "Physiotherapy",
    "HealthAndBeautyBusiness",
    "BeautySalon",
    "HairSalon",
    "DaySpa",
    "NailSalon",
    "HealthClub",
    "TattooParlor",
    "HomeAndConstructionBusiness",
    "Plumber",
    "Electrician",
    "HVACBusiness",
    "GeneralContractor",
    "RoofingContractor",
    "Locksmith",
    "HousePainter",
    "MovingCompany",
    "LegalService",
    "Attorney",
    "Notary",
    "FoodEstablishment",
    "Restaurant",
    "CafeOrCoffeeShop",
    "Bakery",
    "BarOrPub",
    "FastFoodRestaurant",
    "Store",
    "AutoRepair",
    "AnimalShelter",
    "VeterinaryCare",
    "AccountingService",
    "FinancialService",
    "RealEstateAgent",
    "ChildCare",
    "EducationalOrganization",
    "LodgingBusiness",
];

/// Properties whose object values are entities worth reading on their own.
const NESTED_NODES: [&str; 7] = [
    "mainEntity",
    "about",
    "publisher",
    "provider",
    "department",
    "subOrganization",
    "location",
];

/// Parses every `application/ld+json` script of a document; scripts that are not JSON are skipped.
pub(crate) fn scripts(doc: &Html) -> Vec<Value> {
    static SEL: std::sync::LazyLock<Option<Selector>> =
        std::sync::LazyLock::new(|| Selector::parse("script").ok());
    let Some(sel) = SEL.as_ref() else {
        return Vec::new();
    };
    doc.select(sel)
        .filter(|s| {
            s.value()
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        })
        .filter_map(|s| parse_lenient(&s.text().collect::<String>()))
        .collect()
}

/// JSON as sites write it: sometimes wrapped in CDATA or comments, sometimes with trailing commas.
fn parse_lenient(raw: &str) -> Option<Value> {
    let trimmed = raw
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_start_matches("<![CDATA[")
        .trim_end_matches("//]]>")
        .trim_end_matches("]]>")
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    serde_json::from_str(&strip_trailing_commas(trimmed)).ok()
}

/// Removes commas that directly precede `}` or `]` outside strings.
fn strip_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// All schema.org nodes of a site, flattened, with an index of `@id`s so references resolve.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    /// Each node with the index of the page it came from.
    pub nodes: Vec<(usize, Value)>,
    by_id: HashMap<String, usize>,
}

impl Graph {
    /// Adds a parsed document (object, array or `@graph`) found on page `page`.
    pub fn add(&mut self, page: usize, v: Value) {
        let mut stack = vec![(v, 0usize)];
        while let Some((v, depth)) = stack.pop() {
            if self.nodes.len() >= MAX_NODES || depth > MAX_DEPTH {
                return;
            }
            match v {
                Value::Array(items) => {
                    stack.extend(items.into_iter().rev().map(|i| (i, depth + 1)))
                }
                Value::Object(mut map) => {
                    if let Some(graph) = map.remove("@graph") {
                        stack.push((graph, depth + 1));
                    }
                    if map.keys().all(|k| k.starts_with('@')) && !map.contains_key("@type") {
                        continue;
                    }
                    if let Some(id) = map.get("@id").and_then(Value::as_str) {
                        self.by_id.entry(id.to_owned()).or_insert(self.nodes.len());
                    }
                    // A business is often nested in a WebPage (`mainEntity`, `publisher`) or lists its
                    // branches as `department`/`location`; those count as nodes of their own. A reviewed
                    // item or a brand is someone else and stays nested.
                    let node = Value::Object(map);
                    for key in NESTED_NODES {
                        for nested in prop(&node, key) {
                            if nested.is_object() && nested.get("@type").is_some() {
                                stack.push((nested.clone(), depth + 1));
                            }
                        }
                    }
                    self.nodes.push((page, node));
                }
                _ => {}
            }
        }
    }

    /// A bare `{"@id": ...}` reference replaced by the node it names, if known.
    pub fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        let Some(map) = v.as_object() else {
            return v;
        };
        if map.len() == 1
            && let Some(id) = map.get("@id").and_then(Value::as_str)
            && let Some(&i) = self.by_id.get(id)
        {
            return &self.nodes[i].1;
        }
        v
    }

    /// Nodes that describe a business, with their page index. A node referenced from another business
    /// node (a department, a `parentOrganization`) still counts: multi-location sites list them that way.
    pub fn businesses(&self) -> impl Iterator<Item = (usize, &Value)> + '_ {
        self.nodes
            .iter()
            .filter(|(_, v)| is_business(v))
            .map(|(p, v)| (*p, v))
    }

    /// Values of `name` on `node`, arrays flattened and references resolved.
    pub fn prop<'a>(&'a self, node: &'a Value, name: &str) -> Vec<&'a Value> {
        prop(node, name)
            .into_iter()
            .map(|v| self.resolve(v))
            .collect()
    }
}

/// Whether a node's types include a business type.
pub(crate) fn is_business(v: &Value) -> bool {
    types(v)
        .iter()
        .any(|t| BUSINESS_TYPES.contains(&t.as_str()))
}

/// The node's `@type`s, without `schema:` or URL prefixes.
pub(crate) fn types(v: &Value) -> Vec<String> {
    let raw = v
        .get("@type")
        .or_else(|| v.get("type"))
        .map(|t| match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    raw.into_iter()
        .flat_map(str::split_whitespace)
        .map(|t| local_name(t).to_owned())
        .collect()
}

/// `https://schema.org/Dentist`, `schema:Dentist` -> `Dentist`.
pub(crate) fn local_name(s: &str) -> &str {
    let s = s.trim().trim_end_matches('/');
    let s = s.rsplit(['/', '#']).next().unwrap_or(s);
    s.rsplit(':').next().unwrap_or(s)
}

/// Values of a property, accepting `schema:name` and full-URL keys, arrays flattened.
pub(crate) fn prop<'a>(node: &'a Value, name: &str) -> Vec<&'a Value> {
    let Some(map) = node.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in map {
        if k == name || (k.ends_with(name) && local_name(k) == name) {
            match v {
                Value::Array(a) => out.extend(a.iter()),
                Value::Null => {}
                v => out.push(v),
            }
        }
    }
    out
}

/// A property value as text: strings and numbers as they are, `{"@value"}` or `{"name"}` objects unwrapped.
pub(crate) fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(m) => return m.get("@value").or_else(|| m.get("name")).and_then(text),
        _ => return None,
    };
    let s = super::text::collapse(&s);
    (!s.is_empty()).then_some(s)
}

/// First text value of a property.
pub(crate) fn first_text(node: &Value, name: &str) -> Option<String> {
    prop(node, name).into_iter().find_map(text)
}

/// A short, readable rendering of a node for snippets.
pub(crate) fn snippet(node: &Value) -> String {
    let ty = types(node).join(",");
    let name = first_text(node, "name").unwrap_or_default();
    format!("JSON-LD {ty} {name}").trim().to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn graphs_arrays_and_references_flatten_into_nodes() {
        let mut g = Graph::default();
        g.add(
            0,
            json!({"@context": "https://schema.org", "@graph": [
                {"@type": "WebSite", "@id": "#site", "name": "Site"},
                {"@type": ["Dentist", "LocalBusiness"], "@id": "#biz", "name": "Bright", "address": {"@id": "#addr"}},
                {"@type": "PostalAddress", "@id": "#addr", "streetAddress": "1 Main St"}
            ]}),
        );
        g.add(1, json!([{"@type": "schema:Plumber", "name": "P"}]));
        assert_eq!(g.nodes.len(), 4);
        let biz: Vec<_> = g.businesses().collect();
        assert_eq!(biz.len(), 2);
        let addr = g.prop(biz[0].1, "address");
        assert_eq!(first_text(addr[0], "streetAddress").unwrap(), "1 Main St");
        assert_eq!(biz[1].0, 1);
    }

    #[test]
    fn types_and_property_keys_lose_their_prefixes() {
        let v = json!({"@type": "http://schema.org/Restaurant", "schema:telephone": "555", "http://schema.org/name": ["A", "B"]});
        assert_eq!(types(&v), ["Restaurant"]);
        assert_eq!(first_text(&v, "telephone").unwrap(), "555");
        assert_eq!(prop(&v, "name").len(), 2);
        assert!(prop(&v, "ame").is_empty(), "only whole local names match");
    }

    #[test]
    fn scripts_tolerate_cdata_comments_and_trailing_commas() {
        let doc = Html::parse_document(
            r#"<script type="application/ld+json">//<![CDATA[
            {"@type": "Dentist", "name": "A", "sameAs": ["x",],}
            //]]></script><script type="application/ld+json">not json</script>
            <script type="text/javascript">{"@type": "Dentist"}</script>"#,
        );
        let v = scripts(&doc);
        assert_eq!(v.len(), 1);
        assert_eq!(first_text(&v[0], "name").unwrap(), "A");
    }

    #[test]
    fn deeply_nested_input_is_bounded() {
        let mut s = String::new();
        for _ in 0..100 {
            s.push('[');
        }
        s.push_str(r#"{"@type": "Dentist"}"#);
        for _ in 0..100 {
            s.push(']');
        }
        let mut g = Graph::default();
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            g.add(0, v);
        }
        assert!(g.nodes.len() <= 1);
    }
}
