//! A small dental practice's site for end-to-end provisioning: structured data with its hours,
//! Saturday 9 to 1 among them.

use std::path::Path;

/// Writes the site's home page into `dir`.
pub fn write_site(dir: &Path) {
    let home = r#"<!DOCTYPE html><html><head><title>Harbor Family Dental | Portland</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Dentist","name":"Harbor Family Dental",
"telephone":"+1-503-555-0142","address":{"@type":"PostalAddress","streetAddress":"12 Main St",
"addressLocality":"Portland","addressRegion":"OR","postalCode":"97201"},
"openingHoursSpecification":[{"@type":"OpeningHoursSpecification",
"dayOfWeek":["Monday","Tuesday","Wednesday","Thursday","Friday"],"opens":"08:00","closes":"17:00"},
{"@type":"OpeningHoursSpecification","dayOfWeek":"Saturday","opens":"09:00","closes":"13:00"}]}</script>
</head><body><main><h1>Harbor Family Dental</h1>
<p>Gentle dentistry for the whole family. We are open Monday to Friday 8am to 5pm and Saturday 9am to
1pm. Call us at (503) 555-0142.</p></main></body></html>"#;
    std::fs::create_dir_all(dir).expect("site directory");
    std::fs::write(dir.join("index.html"), home).expect("site home page");
}
