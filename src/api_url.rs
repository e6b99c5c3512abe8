//! The Dialtone API's address as a client tool (`dialtone mcp`, `dialtone batch`) takes it.

use reqwest::Url;

/// The base URL from `--api-url`: `http(s)://host[:port][/prefix]`, with or without a trailing `/v2`.
pub fn parse_base_url(raw: &str) -> Result<Url, String> {
    let mut url = Url::parse(raw.trim()).map_err(|e| format!("bad API URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "the API URL must be http(s)://host..., not {raw:?}"
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/v2").unwrap_or(path).to_owned();
    url.set_path(&format!("{path}/"));
    Ok(url)
}
