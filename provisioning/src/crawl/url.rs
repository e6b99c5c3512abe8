//! The business URL a crawl starts from, URL normalisation for de-duplication, and the same-site rule.

use url::{Host, Url};

use crate::error::{ProvisionError, ProvisionErrorCode};

/// Query parameters that only track campaigns or clicks: the same page with or without them is one page.
const TRACKING_PARAMS: &[&str] = &[
    "gclid", "gbraid", "wbraid", "fbclid", "msclkid", "dclid", "yclid", "mc_cid", "mc_eid", "_ga",
    "_gl", "igshid", "ref_src",
];

/// Extensions of resources that are never HTML pages: skipped before fetching.
const NON_HTML_EXTENSIONS: &[&str] = &[
    "pdf", "jpg", "jpeg", "png", "gif", "svg", "webp", "avif", "ico", "bmp", "tif", "tiff", "heic",
    "css", "js", "mjs", "json", "xml", "rss", "atom", "txt", "csv", "zip", "gz", "tgz", "rar",
    "7z", "tar", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "rtf", "mp3", "wav",
    "ogg", "m4a", "mp4", "m4v", "mov", "avi", "webm", "mkv", "woff", "woff2", "ttf", "otf", "eot",
    "exe", "dmg", "apk", "msi", "ics", "vcf",
];

/// An absolute http(s) URL with a host and no credentials: where a crawl may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessUrl(Url);

impl BusinessUrl {
    /// Parses what a user typed. A bare host (`example.com`, `example.com/about`) gets `https://`, since
    /// that is how people write their website; anything else must be an absolute http(s) URL.
    pub fn parse(input: &str) -> Result<Self, ProvisionError> {
        let input = input.trim();
        let invalid = |why: &str| {
            ProvisionError::new(
                ProvisionErrorCode::InvalidUrl,
                format!("{why}: give the website as https://example.com"),
            )
        };
        if input.is_empty() {
            return Err(invalid("the URL is empty"));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(invalid("a URL cannot contain spaces"));
        }
        let with_scheme = if input.contains("://") {
            input.to_owned()
        } else if looks_like_host(input) {
            format!("https://{input}")
        } else {
            return Err(invalid("not a website address"));
        };
        let url = Url::parse(&with_scheme).map_err(|_| invalid("not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http and https websites can be crawled"));
        }
        match url.host() {
            None => return Err(invalid("the URL has no host")),
            Some(Host::Domain("")) => return Err(invalid("the URL has no host")),
            Some(_) => {}
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "a URL with a user name or password is not accepted",
            ));
        }
        Ok(Self(normalise(&url)))
    }

    /// The normalised URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The URL, owned.
    pub fn into_url(self) -> Url {
        self.0
    }
}

impl std::fmt::Display for BusinessUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// `example.com` or `example.com/path`: a dot in the host part and nothing that a URL host cannot hold.
fn looks_like_host(input: &str) -> bool {
    let host = input.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    (host.contains('.') || host.eq_ignore_ascii_case("localhost"))
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
}

/// The URL to fetch: no fragment, no tracking parameters, no empty query. The url crate already lowercases
/// the host, drops default ports and resolves dot segments.
pub fn normalise(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    // Rewrite the query only when something is dropped: re-serialising changes `?a` into `?a=`, which
    // some sites treat differently.
    if url.query_pairs().any(|(k, _)| is_tracking_param(&k)) {
        let kept = kept_query_pairs(&url);
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    } else if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

fn kept_query_pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The de-duplication key of a page: http and https, `www.` or not, `/about` and `/about/`, `/` and
/// `/index.html` are the same page of a small business site.
pub fn dedupe_key(url: &Url) -> String {
    let url = normalise(url);
    let host = url.host_str().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let mut path = url.path().to_owned();
    for index in ["index.html", "index.htm", "index.php"] {
        if let Some(dir) = path.strip_suffix(index)
            && dir.ends_with('/')
        {
            path.truncate(dir.len());
        }
    }
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    let mut key = String::with_capacity(host.len() + path.len() + 8);
    key.push_str(host);
    if let Some(port) = url.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    key.push_str(&path);
    // The query in one canonical encoding, so `%20` and `+` spellings of a parameter agree.
    let kept = kept_query_pairs(&url);
    if !kept.is_empty() {
        key.push('?');
        key.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    key
}

/// One website: a host (without `www.`) and, when it is not the scheme's default, its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    host: String,
    port: Option<u16>,
}

impl Site {
    /// The site a URL belongs to.
    pub fn of(url: &Url) -> Self {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
        Self {
            host,
            port: url.port(),
        }
    }

    /// Whether the URL is on this site. http and https of one host count as one site, so an upgrade to
    /// https (port 80 to 443) stays on site; an explicit other port is another site.
    pub fn contains(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") && Self::of(url) == *self
    }
}

/// Whether the URL names a resource that is never an HTML page, by the extension of its last segment.
pub fn has_non_html_extension(url: &Url) -> bool {
    let last = url.path().rsplit('/').next().unwrap_or_default();
    match last.rsplit_once('.') {
        Some((_, ext)) => NON_HTML_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()),
        None => false,
    }
}

/// The origin of a URL (`scheme://host:port`), which is what robots.txt applies to.
pub fn origin_key(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parse_accepts_http_https_and_bare_hosts() {
        assert_eq!(
            BusinessUrl::parse("https://Example.com/#top")
                .unwrap()
                .to_string(),
            "https://example.com/"
        );
        assert_eq!(
            BusinessUrl::parse(" example.com/about ")
                .unwrap()
                .to_string(),
            "https://example.com/about"
        );
        assert_eq!(
            BusinessUrl::parse("localhost:8080").unwrap().to_string(),
            "https://localhost:8080/"
        );
        assert_eq!(
            BusinessUrl::parse("http://127.0.0.1:3000/?utm_source=x")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:3000/"
        );
    }

    #[test]
    fn parse_rejects_what_is_not_a_website() {
        for bad in [
            "",
            "ftp://x",
            "not a url",
            "http://",
            "https://",
            "mailto:a@b.c",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "noscheme",
            "//example.com",
            "http:// example.com",
        ] {
            let err = BusinessUrl::parse(bad).unwrap_err();
            assert_eq!(err.code, ProvisionErrorCode::InvalidUrl, "{bad:?}");
        }
    }

    #[test]
    fn normalise_drops_fragments_and_tracking() {
        let n = normalise(&url("https://a.com/p?utm_source=x&id=3&fbclid=y#frag"));
        assert_eq!(n.as_str(), "https://a.com/p?id=3");
        let n = normalise(&url("http://a.com:80/p?utm_medium=z"));
        assert_eq!(n.as_str(), "http://a.com/p");
    }

    #[test]
    fn dedupe_key_merges_variants_of_one_page() {
        let key = dedupe_key(&url("https://a.com/about"));
        for same in [
            "http://a.com/about/",
            "https://www.a.com/about",
            "https://a.com/about#team",
            "https://a.com/about?utm_campaign=q",
            "https://A.COM:443/about",
        ] {
            assert_eq!(dedupe_key(&url(same)), key, "{same}");
        }
        assert_eq!(
            dedupe_key(&url("https://a.com/index.html")),
            dedupe_key(&url("https://a.com/"))
        );
        assert_ne!(dedupe_key(&url("https://a.com/about?x=1")), key);
        assert_ne!(dedupe_key(&url("https://a.com:8443/about")), key);
    }

    #[test]
    fn same_site_ignores_scheme_and_www_but_not_port_or_host() {
        let site = Site::of(&url("http://www.clinic.com/"));
        assert!(site.contains(&url("https://clinic.com/contact")));
        assert!(site.contains(&url("http://www.clinic.com:80/x")));
        assert!(!site.contains(&url("https://clinic.com:8443/")));
        assert!(!site.contains(&url("https://evil.com/")));
        assert!(!site.contains(&url("https://sub.clinic.com/")));
        assert!(!site.contains(&url("ftp://clinic.com/")));
        let local = Site::of(&url("http://127.0.0.1:4000/"));
        assert!(local.contains(&url("http://127.0.0.1:4000/about")));
        assert!(!local.contains(&url("http://127.0.0.1:4001/about")));
    }

    #[test]
    fn non_html_extensions() {
        assert!(has_non_html_extension(&url("https://a.com/menu.PDF")));
        assert!(has_non_html_extension(&url(
            "https://a.com/img/logo.png?v=2"
        )));
        assert!(!has_non_html_extension(&url("https://a.com/about.html")));
        assert!(!has_non_html_extension(&url("https://a.com/v1.2/about")));
        assert!(!has_non_html_extension(&url("https://a.com/")));
    }

    fn arb_url() -> impl Strategy<Value = Url> {
        let host = prop::sample::select(vec!["a.com", "www.a.com", "b.org", "127.0.0.1"]);
        let scheme = prop::sample::select(vec!["http", "https"]);
        let segs = prop::collection::vec("[a-zA-Z0-9%._~-]{0,8}", 0..4);
        let params = prop::collection::vec(
            (
                prop::sample::select(vec!["id", "q", "utm_source", "utm_x", "gclid", "page"]),
                "[a-z0-9]{0,4}",
            ),
            0..4,
        );
        let frag = prop::option::of("[a-z0-9]{0,6}");
        let slash = any::<bool>();
        (scheme, host, segs, slash, params, frag).prop_filter_map(
            "valid url",
            |(scheme, host, segs, slash, params, frag)| {
                let mut s = format!("{scheme}://{host}/{}", segs.join("/"));
                if slash && !s.ends_with('/') {
                    s.push('/');
                }
                if !params.is_empty() {
                    let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    s.push('?');
                    s.push_str(&q.join("&"));
                }
                if let Some(f) = frag {
                    s.push('#');
                    s.push_str(&f);
                }
                Url::parse(&s).ok()
            },
        )
    }

    proptest! {
        #[test]
        fn normalise_is_idempotent(u in arb_url()) {
            let once = normalise(&u);
            prop_assert_eq!(normalise(&once), once.clone());
            prop_assert!(once.fragment().is_none());
            prop_assert!(!once.query_pairs().any(|(k, _)| is_tracking_param(&k)));
        }

        #[test]
        fn dedupe_key_ignores_noise(u in arb_url(), frag in "[a-z]{1,5}", utm in "[a-z]{1,5}") {
            let key = dedupe_key(&u);
            prop_assert_eq!(dedupe_key(&normalise(&u)), key.clone());
            let mut noisy = u.clone();
            noisy.set_fragment(Some(&frag));
            noisy.query_pairs_mut().append_pair("utm_campaign", &utm);
            prop_assert_eq!(dedupe_key(&noisy), key.clone());
            let mut other_scheme = u.clone();
            let flipped = if u.scheme() == "http" { "https" } else { "http" };
            other_scheme.set_scheme(flipped).unwrap();
            prop_assert_eq!(dedupe_key(&other_scheme), key);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = BusinessUrl::parse(&s);
        }
    }
}
