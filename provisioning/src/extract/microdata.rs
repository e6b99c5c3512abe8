//! Microdata (`itemscope`/`itemtype`/`itemprop`) and RDFa Lite (`typeof`/`property`) converted into the
//! JSON shape of JSON-LD, so one reader (`jsonld.rs`) interprets all three.

use std::collections::HashMap;

use ego_tree::NodeId;
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};

use super::elements::element_text;

/// Caps against pathological markup.
const MAX_ITEMS: usize = 500;
const MAX_DEPTH: usize = 12;
const MAX_ANCESTORS: usize = 64;

/// The two attribute vocabularies: (scope marker, type attribute, property attribute).
const SYNTAXES: [(&str, &str, &str); 2] = [
    ("itemscope", "itemtype", "itemprop"),
    ("typeof", "typeof", "property"),
];

/// Every top-level item of the document as a JSON-LD-like object.
pub(crate) fn items(doc: &Html) -> Vec<Value> {
    let mut out = Vec::new();
    for (scope, ty, prop) in SYNTAXES {
        out.extend(items_of(doc, scope, ty, prop));
    }
    out
}

fn items_of(doc: &Html, scope: &str, ty_attr: &str, prop_attr: &str) -> Vec<Value> {
    // Collect each item's properties: (owner item, name, value element).
    let mut scopes: Vec<ElementRef<'_>> = Vec::new();
    let mut props: HashMap<NodeId, Vec<(String, ElementRef<'_>)>> = HashMap::new();
    for node in doc.tree.root().descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let v = el.value();
        if v.attr(scope).is_some() && scopes.len() < MAX_ITEMS {
            scopes.push(el);
        }
        let Some(names) = v.attr(prop_attr) else {
            continue;
        };
        let Some(owner) = owner_of(el, scope) else {
            continue;
        };
        for name in names.split_whitespace() {
            let name = super::jsonld::local_name(name).to_owned();
            props.entry(owner).or_default().push((name, el));
        }
    }
    scopes
        .iter()
        .filter(|el| el.value().attr(prop_attr).is_none() || owner_of(**el, scope).is_none())
        .map(|el| build(*el, &props, scope, ty_attr, 0))
        .collect()
}

/// The nearest ancestor that opens an item.
fn owner_of(el: ElementRef<'_>, scope: &str) -> Option<NodeId> {
    let mut node = el.parent();
    // A property nested deeper than this below its item is treated as orphaned, which bounds the work on
    // pathologically deep documents.
    let mut hops = 0;
    while let Some(n) = node {
        hops += 1;
        if hops > MAX_ANCESTORS {
            return None;
        }
        if let Some(e) = ElementRef::wrap(n)
            && e.value().attr(scope).is_some()
        {
            return Some(n.id());
        }
        node = n.parent();
    }
    None
}

fn build(
    el: ElementRef<'_>,
    props: &HashMap<NodeId, Vec<(String, ElementRef<'_>)>>,
    scope: &str,
    ty_attr: &str,
    depth: usize,
) -> Value {
    let mut map = Map::new();
    if let Some(t) = el.value().attr(ty_attr) {
        let types: Vec<Value> = t
            .split_whitespace()
            .map(|t| Value::String(super::jsonld::local_name(t).to_owned()))
            .collect();
        map.insert("@type".into(), Value::Array(types));
    }
    for (name, prop_el) in props.get(&el.id()).into_iter().flatten() {
        let value = if prop_el.value().attr(scope).is_some() {
            if depth >= MAX_DEPTH {
                continue;
            }
            build(*prop_el, props, scope, ty_attr, depth + 1)
        } else {
            match literal(*prop_el) {
                Some(s) => Value::String(s),
                None => continue,
            }
        };
        match map.get_mut(name) {
            Some(Value::Array(a)) => a.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(name.clone(), value);
            }
        }
    }
    Value::Object(map)
}

/// A property's value: `content` wins (it is the machine-readable form), then the element's natural
/// attribute, then its text.
fn literal(el: ElementRef<'_>) -> Option<String> {
    let v = el.value();
    let attr = v.attr("content").or_else(|| match v.name() {
        "a" | "link" | "area" => v.attr("href"),
        "img" | "audio" | "video" | "source" | "embed" | "iframe" => v.attr("src"),
        "time" => v.attr("datetime"),
        "data" | "meter" => v.attr("value"),
        "object" => v.attr("data"),
        _ => None,
    });
    let s = match attr {
        Some(a) => super::text::collapse(a),
        None => element_text(el),
    };
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn microdata_items_nest_and_prefer_content_attributes() {
        let doc = Html::parse_document(
            r#"<div itemscope itemtype="https://schema.org/Restaurant">
                 <h1 itemprop="name">Luigi's</h1>
                 <a itemprop="telephone" href="tel:+15035550100">(503) 555-0100</a>
                 <meta itemprop="openingHours" content="Tu-Su 11:00-22:00">
                 <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
                   <span itemprop="streetAddress">12 Oak St</span>
                 </div>
                 <div itemprop="hasMenu" itemscope itemtype="https://schema.org/Menu">
                   <div itemprop="hasMenuItem" itemscope itemtype="https://schema.org/MenuItem"><span itemprop="name">Soup</span></div>
                   <div itemprop="hasMenuItem" itemscope itemtype="https://schema.org/MenuItem"><span itemprop="name">Pasta</span></div>
                 </div>
               </div>"#,
        );
        let items = items(&doc);
        assert_eq!(items.len(), 1);
        let r = &items[0];
        assert_eq!(r["@type"], json!(["Restaurant"]));
        assert_eq!(r["name"], "Luigi's");
        assert_eq!(r["telephone"], "tel:+15035550100");
        assert_eq!(r["openingHours"], "Tu-Su 11:00-22:00");
        assert_eq!(r["address"]["streetAddress"], "12 Oak St");
        assert_eq!(r["hasMenu"]["hasMenuItem"][1]["name"], "Pasta");
    }

    #[test]
    fn rdfa_lite_reads_like_microdata() {
        let doc = Html::parse_document(
            r#"<div vocab="https://schema.org/" typeof="LegalService">
                 <span property="name">Hale &amp; Ward LLP</span>
                 <span property="telephone">503-555-0177</span>
               </div>"#,
        );
        let items = items(&doc);
        assert_eq!(items[0]["@type"], json!(["LegalService"]));
        assert_eq!(items[0]["name"], "Hale & Ward LLP");
        assert_eq!(items[0]["telephone"], "503-555-0177");
    }

    #[test]
    fn properties_outside_items_are_ignored() {
        let doc = Html::parse_document(r#"<span itemprop="name">Orphan</span>"#);
        assert!(items(&doc).is_empty());
    }
}
