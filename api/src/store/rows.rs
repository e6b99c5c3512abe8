//! Reading rows: typed columns, JSON kept as TEXT, and enums kept as their snake_case names.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;

/// A column that must be present.
pub(crate) fn col<T>(row: &AnyRow, name: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Database(format!("column {name}: {e}")))
}

/// A JSON column (TEXT), NULL read as JSON null.
pub(crate) fn json_col(row: &AnyRow, name: &str) -> Result<Value, StoreError> {
    Ok(opt_json_col(row, name)?.unwrap_or(Value::Null))
}

/// A nullable JSON column (TEXT).
pub(crate) fn opt_json_col(row: &AnyRow, name: &str) -> Result<Option<Value>, StoreError> {
    col::<Option<String>>(row, name)?
        .map(|text| serde_json::from_str(&text).map_err(StoreError::from))
        .transpose()
}

/// A JSON column holding a list of strings (scopes, webhook event types).
pub(crate) fn string_list_col(row: &AnyRow, name: &str) -> Result<Vec<String>, StoreError> {
    let text: String = col(row, name)?;
    Ok(serde_json::from_str(&text)?)
}

/// A value as the JSON text the store keeps.
pub(crate) fn json_text(value: &Value) -> String {
    value.to_string()
}

/// Strings as the JSON list text the store keeps.
pub(crate) fn string_list_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// An enum column, stored as the enum's snake_case name.
pub(crate) fn enum_col<T: std::str::FromStr>(row: &AnyRow, name: &str) -> Result<T, StoreError> {
    let text: String = col(row, name)?;
    text.parse()
        .map_err(|_| StoreError::Database(format!("column {name}: unknown value {text:?}")))
}

/// A nullable enum column.
pub(crate) fn opt_enum_col<T: std::str::FromStr>(
    row: &AnyRow,
    name: &str,
) -> Result<Option<T>, StoreError> {
    match col::<Option<String>>(row, name)? {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Database(format!("column {name}: unknown value {text:?}"))),
    }
}

/// Declares a fieldless enum stored as text: `as_str`, `FromStr`, `Display`, and serde as the same names.
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The name stored in the database and used on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("unknown {} {s:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;
