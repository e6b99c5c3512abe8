//! A fixture website served over HTTP on 127.0.0.1 (a free port), for crawler tests and benches.
//!
//! Files of the site directory map to paths: `/` is `index.html`, `/about` is `about.html`,
//! `about/index.html` or a file named `about`, and any other path its file. `{origin}` in a UTF-8 file
//! becomes `http://127.0.0.1:PORT`, so sitemaps can hold absolute URLs. An optional `_routes.toml`
//! in the directory overrides paths:
//!
//! ```toml
//! [routes."/"]
//! status = 301
//! location = "/home"              # "{origin}" becomes http://127.0.0.1:PORT
//!
//! [routes."/latin1"]
//! file = "latin1.html"            # serve another file (default: the path's own file)
//! headers = { "content-type" = "text/html; charset=windows-1252" }
//!
//! [routes."/broken"]
//! status = 500
//! body = "oops"                   # a literal body instead of a file
//!
//! [routes."/slow"]
//! delay_ms = 50                   # answer late
//! [routes."/never"]
//! hang = true                     # never answer
//! ```
//!
//! Self-contained (axum, tokio, toml) so another crate's tests can include it with
//! `#[path = ".../provisioning/tests/support/site_server.rs"] mod site_server;`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query.
    pub path: String,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// When it arrived.
    pub at: Instant,
}

/// An override of one path.
#[derive(Debug, Clone, Default)]
struct Route {
    status: Option<u16>,
    location: Option<String>,
    file: Option<String>,
    body: Option<String>,
    headers: Vec<(String, String)>,
    delay: Option<Duration>,
    hang: bool,
}

#[derive(Debug)]
struct Site {
    dir: PathBuf,
    origin: String,
    routes: HashMap<String, Route>,
    hits: Mutex<Vec<Hit>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running fixture site; stops when dropped.
#[derive(Debug)]
pub struct SiteServer {
    addr: SocketAddr,
    site: Arc<Site>,
    task: tokio::task::JoinHandle<()>,
}

impl SiteServer {
    /// Serves `dir` on 127.0.0.1 at a free port. Fails if `_routes.toml` is malformed.
    pub async fn start(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let routes = load_routes(&dir)?;
        let site = Arc::new(Site {
            dir,
            origin: format!("http://{addr}"),
            routes,
            hits: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(serve).with_state(site.clone());
        let task = tokio::spawn(async move {
            // Ends when the task is aborted on drop; a serve error ends the fixture, which tests notice.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, site, task })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.site.origin
    }

    /// The absolute URL of a path (`/about`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.site.origin)
    }

    /// Every request so far, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.site
            .hits
            .lock()
            .expect("no test panics while holding the log")
            .clone()
    }

    /// Paths (with query) requested so far, in arrival order.
    pub fn requested(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.path).collect()
    }

    /// How many times a path (with query) was requested.
    pub fn count(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.site.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn load_routes(dir: &Path) -> std::io::Result<HashMap<String, Route>> {
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let text = match std::fs::read_to_string(dir.join("_routes.toml")) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e| invalid(format!("_routes.toml: {e}")))?;
    let Some(toml::Value::Table(routes)) = table.get("routes") else {
        return Ok(HashMap::new());
    };
    let mut out = HashMap::new();
    for (path, spec) in routes {
        let spec = spec
            .as_table()
            .ok_or_else(|| invalid(format!("_routes.toml: routes.{path:?} is not a table")))?;
        let text = |key: &str| spec.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let route = Route {
            status: spec
                .get("status")
                .and_then(|v| v.as_integer())
                .and_then(|s| u16::try_from(s).ok()),
            location: text("location"),
            file: text("file"),
            body: text("body"),
            headers: spec
                .get("headers")
                .and_then(|h| h.as_table())
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
            delay: spec
                .get("delay_ms")
                .and_then(|v| v.as_integer())
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis),
            hang: spec.get("hang").and_then(|v| v.as_bool()).unwrap_or(false),
        };
        out.insert(path.clone(), route);
    }
    Ok(out)
}

/// Counts a request as in flight until dropped (also when a hanging request is abandoned).
struct InFlight<'a>(&'a Site);

impl<'a> InFlight<'a> {
    fn enter(site: &'a Site) -> Self {
        let now = site.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        site.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(site)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(State(site): State<Arc<Site>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    site.hits
        .lock()
        .expect("no test panics while holding the log")
        .push(Hit {
            path: path_and_query,
            user_agent,
            at: Instant::now(),
        });
    let _in_flight = InFlight::enter(&site);
    let route = site.routes.get(&path).cloned().unwrap_or_default();
    if route.hang {
        std::future::pending::<()>().await;
    }
    if let Some(delay) = route.delay {
        tokio::time::sleep(delay).await;
    }
    respond(&site, &path, &route)
}

fn respond(site: &Site, path: &str, route: &Route) -> Response {
    let (mut status, mut content_type, body) = if let Some(body) = &route.body {
        (
            StatusCode::OK,
            "text/html",
            body.replace("{origin}", &site.origin).into_bytes(),
        )
    } else if route.location.is_some() {
        (StatusCode::FOUND, "text/html", Vec::new())
    } else {
        let file = match &route.file {
            Some(f) => Some(site.dir.join(f)),
            None => find_file(&site.dir, path),
        };
        match file.and_then(|f| Some((std::fs::read(&f).ok()?, f))) {
            Some((bytes, file)) => (
                StatusCode::OK,
                content_type_of(&file),
                with_origin(bytes, &site.origin),
            ),
            None => (
                StatusCode::NOT_FOUND,
                "text/html",
                b"<h1>Not found</h1>".to_vec(),
            ),
        }
    };
    if let Some(code) = route.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        status = code;
    }
    if status == StatusCode::NOT_FOUND && route.body.is_none() {
        content_type = "text/html";
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(location) = &route.location {
        let location = location.replace("{origin}", &site.origin);
        if let Ok(value) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, value);
        }
    }
    for (name, value) in &route.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}

/// Writes the server's origin where a UTF-8 file says `{origin}`, so sitemaps and robots.txt can hold
/// absolute URLs although the port is only known at run time. Other files are served byte for byte.
fn with_origin(bytes: Vec<u8>, origin: &str) -> Vec<u8> {
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("{origin}") => text.replace("{origin}", origin).into_bytes(),
        _ => bytes,
    }
}

/// The file for a URL path, never outside the site directory.
fn find_file(dir: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let base = dir.join(relative);
    let candidates = if path == "/" || path.ends_with('/') {
        vec![base.join("index.html")]
    } else {
        vec![
            base.clone(),
            base.with_extension("html"),
            base.join("index.html"),
        ]
    };
    candidates.into_iter().find(|p| p.is_file())
}

fn content_type_of(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "css" => "text/css",
        "js" => "text/javascript",
        _ => "application/octet-stream",
    }
}
