//! The bodies of `POST /v2/agents` and `PATCH /v2/agents/{id}`, and their validation.
//!
//! The product's documents show two shapes for creating an agent, and both are accepted:
//! `{"businessUrl", "verticalType", "phone_number", "white_label_id"}` and
//! `{"payload": {"name", "platform", "business_url", "template_id"}}`. Every field takes its snake_case
//! and its camelCase name, at the top level or under `payload` (which wins when both have a field).

use dialtone_provisioning::template::{self, TEMPLATES, Template};
use dialtone_provisioning::{BusinessUrl, ProvisionErrorCode};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use utoipa::ToSchema;

use super::error::ApiError;
use super::fields::{non_blank, optional_text};

/// Longest name, label or platform accepted.
const MAX_SHORT: usize = 200;
/// Longest instructions accepted.
const MAX_INSTRUCTIONS: usize = 20_000;
/// Longest URL accepted.
const MAX_URL: usize = 2048;
/// Longest greeting or system prompt accepted.
const MAX_PROMPT: usize = 50_000;

/// The fields of a new agent. camelCase names are accepted too (`businessUrl`, `verticalType`,
/// `phoneNumber`, `whiteLabelId`, `templateId`).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct AgentFields {
    /// Display name.
    #[serde(default)]
    #[schema(max_length = 200, example = "Smile Dental AI")]
    pub name: Option<String>,
    /// The business website to read (`https://smiledental.com`, or a bare host). Required unless
    /// `instructions` describe the business.
    #[serde(default, alias = "businessUrl", alias = "website_url", alias = "url")]
    #[schema(
        max_length = 2048,
        pattern = r"^(https?://)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:[1-9][0-9]{0,3})?(/[!-~]*)?$",
        example = "https://smiledental.com"
    )]
    pub business_url: Option<String>,
    /// Industry vertical (`dental`, `home_services`, ...; see each template's `verticals` in
    /// `GET /v2/templates`); picks the template when `template_id` is absent. Case and `-` or spaces for
    /// `_` do not matter. An unknown one is refused with `template_not_found`.
    #[serde(default, alias = "verticalType", alias = "vertical_type")]
    #[schema(max_length = 200, example = "dental")]
    pub vertical: Option<String>,
    /// A template id from `GET /v2/templates` (`dental_receptionist`).
    #[serde(default, alias = "templateId")]
    #[schema(max_length = 200, example = "dental_receptionist")]
    pub template_id: Option<String>,
    /// The E.164 number the agent answers once active.
    #[serde(default, alias = "phoneNumber")]
    #[schema(pattern = r"^\+[1-9][0-9]{6,14}$", example = "+18435551234")]
    pub phone_number: Option<String>,
    /// The reseller's label for the customer this agent serves.
    #[serde(default, alias = "whiteLabelId")]
    #[schema(max_length = 200)]
    pub white_label_id: Option<String>,
    /// The caller's platform name (kept, not interpreted).
    #[serde(default)]
    #[schema(max_length = 200, example = "elevenlabs")]
    pub platform: Option<String>,
    /// Free-text instructions that steer the agent, or describe a business without a website.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub instructions: Option<String>,
}

/// `POST /v2/agents`: the fields at the top level, under `payload`, or both.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateAgentRequest {
    /// The fields, at the top level.
    #[serde(flatten)]
    pub fields: AgentFields,
    /// The fields, nested (the other documented shape).
    #[serde(default)]
    pub payload: Option<AgentFields>,
}

/// A validated create request.
#[derive(Debug)]
pub struct ValidAgent {
    pub name: Option<String>,
    /// Normalised (`https://` added to bare hosts).
    pub business_url: Option<String>,
    pub vertical: Option<String>,
    pub template: Option<&'static Template>,
    pub phone_number: Option<String>,
    pub white_label_id: Option<String>,
    pub platform: Option<String>,
    pub instructions: Option<String>,
}

/// An E.164 number: `+`, a non-zero digit, then 6 to 14 more digits.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Checks a phone number field: exactly E.164, as the document's pattern says (no spaces or dashes).
pub fn phone(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(number) = value else {
        return Ok(None);
    };
    if !is_e164(&number) {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be an E.164 number such as +18435551234"),
        )
        .detail("reason", json!("invalid_phone_number")));
    }
    Ok(Some(number))
}

/// The template named by `name`, or 400 `template_not_found` naming `field` and listing the known ones.
pub fn find_template(field: &str, name: &str) -> Result<&'static Template, ApiError> {
    template::template(name).map_err(|e| {
        let known: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
        ApiError::invalid_field(field, format!("template_not_found: {}", e.message))
            .detail(
                "reason",
                json!(ProvisionErrorCode::TemplateNotFound.as_str()),
            )
            .detail("known_templates", json!(known))
    })
}

/// A website URL, normalised, or 400 `invalid_url`.
pub fn website(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(raw) = optional_text(field, value, MAX_URL)? else {
        return Ok(None);
    };
    BusinessUrl::parse(&raw)
        .map(|u| Some(u.url().to_string()))
        .map_err(|e| {
            ApiError::invalid_field(field, format!("invalid_url: {}", e.message))
                .detail("reason", json!(ProvisionErrorCode::InvalidUrl.as_str()))
        })
}

impl CreateAgentRequest {
    /// Merges the two shapes and validates every field.
    pub fn validate(self) -> Result<ValidAgent, ApiError> {
        let top = self.fields;
        let nested = self.payload.unwrap_or_default();
        let pick = |a: Option<String>, b: Option<String>| b.or(a);
        let name = optional_text("name", pick(top.name, nested.name), MAX_SHORT)?;
        let instructions = optional_text(
            "instructions",
            pick(top.instructions, nested.instructions),
            MAX_INSTRUCTIONS,
        )?;
        let business_url = website("business_url", pick(top.business_url, nested.business_url))?;
        if business_url.is_none() && instructions.is_none() {
            return Err(ApiError::invalid_field(
                "business_url",
                "business_url (or businessUrl) is required, unless instructions describe the business",
            ));
        }
        let vertical = optional_text("vertical", pick(top.vertical, nested.vertical), MAX_SHORT)?
            .map(|v| v.to_ascii_lowercase());
        let template_id = optional_text(
            "template_id",
            pick(top.template_id, nested.template_id),
            MAX_SHORT,
        )?;
        let template = match (&template_id, &vertical) {
            (Some(id), _) => Some(find_template("template_id", id)?),
            (None, Some(v)) => Some(find_template("vertical", v)?),
            (None, None) => None,
        };
        Ok(ValidAgent {
            name,
            business_url,
            vertical: vertical
                .or_else(|| template.and_then(|t| t.verticals.first().map(|v| (*v).to_owned()))),
            template,
            phone_number: phone("phone_number", pick(top.phone_number, nested.phone_number))?,
            white_label_id: optional_text(
                "white_label_id",
                pick(top.white_label_id, nested.white_label_id),
                MAX_SHORT,
            )?,
            platform: optional_text("platform", pick(top.platform, nested.platform), MAX_SHORT)?,
            instructions,
        })
    }
}

/// Reads a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /v2/agents/{id}`: the fields to change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAgentRequest {
    /// New display name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// New opening line.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub greeting: Option<String>,
    /// New system prompt.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub system_prompt: Option<String>,
    /// New voice.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub voice: Option<String>,
    /// New E.164 number; `null` unbinds the agent from its number.
    #[serde(default, alias = "phoneNumber", deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\+[1-9][0-9]{6,14}$")]
    pub phone_number: Option<Option<String>>,
    /// New vertical (`verticalType` is accepted too).
    #[serde(default, alias = "verticalType", alias = "vertical_type")]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub vertical: Option<String>,
}

/// A validated patch.
#[derive(Debug, Default, PartialEq)]
pub struct ValidPatch {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub system_prompt: Option<String>,
    pub voice: Option<String>,
    pub phone_number: Option<Option<String>>,
    pub vertical: Option<String>,
}

impl UpdateAgentRequest {
    /// Validates every field present.
    pub fn validate(self) -> Result<ValidPatch, ApiError> {
        let phone_number = match self.phone_number {
            None => None,
            Some(None) => Some(None),
            Some(Some(n)) => Some(phone("phone_number", Some(n))?),
        };
        Ok(ValidPatch {
            name: non_blank("name", self.name, MAX_SHORT)?,
            greeting: non_blank("greeting", self.greeting, MAX_PROMPT)?,
            system_prompt: non_blank("system_prompt", self.system_prompt, MAX_PROMPT)?,
            voice: non_blank("voice", self.voice, MAX_SHORT)?,
            phone_number,
            vertical: non_blank("vertical", self.vertical, MAX_SHORT)?
                .map(|v| v.to_ascii_lowercase()),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn create(body: serde_json::Value) -> Result<ValidAgent, ApiError> {
        serde_json::from_value::<CreateAgentRequest>(body)
            .unwrap()
            .validate()
    }

    #[test]
    fn both_documented_shapes_are_accepted() {
        let a = create(
            json!({"businessUrl": "smiledental.com", "verticalType": "dental",
            "phone_number": "+18435551234", "white_label_id": "p1"}),
        )
        .unwrap();
        assert_eq!(a.business_url.as_deref(), Some("https://smiledental.com/"));
        assert_eq!(a.template.unwrap().id, "dental_receptionist");
        assert_eq!(a.vertical.as_deref(), Some("dental"));
        let b = create(
            json!({"payload": {"name": "My Dental AI", "platform": "elevenlabs",
            "business_url": "https://smile-dental.com", "template_id": "dental_receptionist"}}),
        )
        .unwrap();
        assert_eq!(b.name.as_deref(), Some("My Dental AI"));
        assert_eq!(b.vertical.as_deref(), Some("dental"));
    }

    #[test]
    fn bad_fields_name_themselves() {
        let field = |e: ApiError| e.body().error.details.unwrap()["field"].clone();
        assert_eq!(field(create(json!({})).unwrap_err()), "business_url");
        assert_eq!(
            field(create(json!({"business_url": "ftp://x"})).unwrap_err()),
            "business_url"
        );
        let e = create(json!({"business_url": "a.com", "template_id": "astrology"})).unwrap_err();
        let details = e.body().error.details.unwrap();
        assert_eq!(details["reason"], "template_not_found");
        assert_eq!(
            field(create(json!({"business_url": "a.com", "phone_number": "555"})).unwrap_err()),
            "phone_number"
        );
        assert!(is_e164("+18435551234") && !is_e164("+0123456789") && !is_e164("18435551234"));
    }

    #[test]
    fn patches_tell_null_from_absent() {
        let p: UpdateAgentRequest = serde_json::from_value(json!({"phone_number": null})).unwrap();
        assert_eq!(p.validate().unwrap().phone_number, Some(None));
        let p: UpdateAgentRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(p.validate().unwrap(), ValidPatch::default());
        let p: UpdateAgentRequest = serde_json::from_value(json!({"name": " "})).unwrap();
        assert!(p.validate().is_err());
    }
}
