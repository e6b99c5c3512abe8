//! The customer list: a CSV with a header naming at least `customer_id`, `business_name` and
//! `business_url` (the batch guide's columns), optionally `template_id` (or `vertical`) and `phone_number`.
//!
//! Structural problems are reported all at once with their line numbers, before anything is sent: a
//! half-valid file would otherwise provision part of the list and leave the operator guessing which part.
//! Whether a URL is a website is left to the API, which answers with its own codes (`invalid_url`).

use std::collections::HashMap;
use std::fmt;

/// One customer to provision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// The line the row starts on (1 is the header).
    pub line: u64,
    /// The durable business identifier the idempotency key is derived from.
    pub customer_id: String,
    /// Shown in the agent's name.
    pub business_name: String,
    /// The website to provision from.
    pub business_url: String,
    /// Per-row template or vertical, overriding the run's default.
    pub template_id: Option<String>,
    /// The number the agent answers, if the row names one.
    pub phone_number: Option<String>,
}

impl Customer {
    /// The `Idempotency-Key` of this customer's provisioning request: the same on every run, so a rerun
    /// gets the original operation back instead of a second agent.
    pub fn idempotency_key(&self) -> String {
        format!("provision-customer-{}", self.customer_id)
    }
}

/// A problem with one line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvProblem {
    /// 1-based line number (0 when the file as a whole is at fault).
    pub line: u64,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

const REQUIRED: [&str; 3] = ["customer_id", "business_name", "business_url"];
/// Idempotency keys travel in an HTTP header and are stored by the API.
const MAX_ID_LEN: usize = 200;

/// Column positions found in the header.
struct Columns {
    customer_id: usize,
    business_name: usize,
    business_url: usize,
    template_id: Option<usize>,
    phone_number: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, Vec<CsvProblem>> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|name| find(&[name]).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(vec![CsvProblem {
                line: 1,
                message: format!(
                    "the header lacks {}; expected columns: customer_id,business_name,business_url \
                     (optional: template_id, phone_number)",
                    missing.join(", ")
                ),
            }]);
        }
        Ok(Self {
            customer_id: find(&["customer_id"]).unwrap_or_default(),
            business_name: find(&["business_name"]).unwrap_or_default(),
            business_url: find(&["business_url"]).unwrap_or_default(),
            template_id: find(&["template_id", "vertical", "vertical_type"]),
            phone_number: find(&["phone_number", "phone"]),
        })
    }
}

fn field(record: &csv::StringRecord, at: usize) -> String {
    record.get(at).unwrap_or_default().trim().to_owned()
}

fn optional(record: &csv::StringRecord, at: Option<usize>) -> Option<String> {
    at.map(|at| field(record, at)).filter(|v| !v.is_empty())
}

fn check_id(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("customer_id is empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Some(format!(
            "customer_id is longer than {MAX_ID_LEN} characters"
        ));
    }
    if let Some(bad) = id.chars().find(|c| !c.is_ascii_graphic()) {
        return Some(format!(
            "customer_id {id:?} contains {bad:?}; use letters, digits and punctuation without spaces"
        ));
    }
    None
}

/// Parses and checks the whole file: every customer, or every problem found.
pub fn read_customers(text: &str) -> Result<Vec<Customer>, Vec<CsvProblem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| {
        vec![CsvProblem {
            line: 1,
            message: format!("unreadable header: {e}"),
        }]
    })?;
    let columns = Columns::from_header(header)?;
    let width = header.len();
    let mut problems = Vec::new();
    let mut customers = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or_default();
                problems.push(CsvProblem {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or_default();
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != width {
            problems.push(CsvProblem {
                line,
                message: format!(
                    "{} fields where the header has {width} (a comma inside a value needs quotes)",
                    record.len()
                ),
            });
            continue;
        }
        let customer = Customer {
            line,
            customer_id: field(&record, columns.customer_id),
            business_name: field(&record, columns.business_name),
            business_url: field(&record, columns.business_url),
            template_id: optional(&record, columns.template_id),
            phone_number: optional(&record, columns.phone_number),
        };
        let before = problems.len();
        if let Some(message) = check_id(&customer.customer_id) {
            problems.push(CsvProblem { line, message });
        } else if let Some(first) = seen.insert(customer.customer_id.clone(), line) {
            problems.push(CsvProblem {
                line,
                message: format!(
                    "customer_id {:?} repeats line {first}: each customer needs its own id",
                    customer.customer_id
                ),
            });
        }
        if customer.business_name.is_empty() {
            problems.push(CsvProblem {
                line,
                message: "business_name is empty".into(),
            });
        }
        if customer.business_url.is_empty() {
            problems.push(CsvProblem {
                line,
                message: "business_url is empty".into(),
            });
        }
        if problems.len() == before {
            customers.push(customer);
        }
    }
    if customers.is_empty() && problems.is_empty() {
        problems.push(CsvProblem {
            line: 0,
            message: "the file has a header but no customers".into(),
        });
    }
    if problems.is_empty() {
        Ok(customers)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_guides_columns_and_optional_ones() {
        let text = "customer_id,business_name,business_url,template_id\n\
                    c1, Bright Smile ,https://brightsmile.example,\n\
                    c2,\"Smith, Jones & Co\",https://sj.example,legal_intake\n\n";
        let customers = read_customers(text).unwrap();
        assert_eq!(customers.len(), 2);
        assert_eq!(customers[0].business_name, "Bright Smile");
        assert_eq!(customers[0].template_id, None);
        assert_eq!(customers[0].line, 2);
        assert_eq!(customers[1].business_name, "Smith, Jones & Co");
        assert_eq!(customers[1].template_id.as_deref(), Some("legal_intake"));
        assert_eq!(customers[1].idempotency_key(), "provision-customer-c2");
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let text = "\u{feff}Business_URL,Phone_Number,Customer_ID,Business_Name\n\
                    https://a.example,+15035550100,a1,A\n";
        let customers = read_customers(text).unwrap();
        assert_eq!(customers[0].customer_id, "a1");
        assert_eq!(customers[0].phone_number.as_deref(), Some("+15035550100"));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "customer_id,business_name,business_url\n\
                    c1,A,https://a.example\n\
                    ,B,https://b.example\n\
                    c1,C,https://c.example\n\
                    c4,,\n\
                    c5,E,https://e.example,extra\n\
                    c 6,F,https://f.example\n";
        let problems = read_customers(text).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 5, 6, 7], "{problems:?}");
        assert!(problems[1].message.contains("repeats line 2"));
        assert!(problems[4].to_string().starts_with("line 6: 4 fields"));
    }

    #[test]
    fn a_header_without_the_required_columns_is_refused() {
        let problems = read_customers("id,name,url\n1,a,b\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("customer_id, business_name, business_url")
        );
        let problems = read_customers("customer_id,business_name,business_url\n").unwrap_err();
        assert!(problems[0].message.contains("no customers"));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "",
            "\"",
            "a\n\"b",
            "customer_id,business_name,business_url\n\"x",
        ] {
            let _ = read_customers(text);
        }
    }
}
