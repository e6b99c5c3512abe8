//! A router on a fresh store, two tenants with keys, a hand-moved clock, and a small request builder.
//!
//! Tests run on SQLite, and on PostgreSQL too when `DIALTONE_TEST_DATABASE_URL` is set (required when
//! `DIALTONE_REQUIRE_POSTGRES=1`), each on a database of its own, as the store's tests do.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use dialtone_api::store::{DbLocation, Store, Tenant};
use dialtone_api::{ApiConfig, ApiContext};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, Executor};
use tower::ServiceExt;

/// Where the clock starts.
pub const T0: i64 = 1_776_435_781_000;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// The app under test.
pub struct App {
    pub router: Router,
    pub ctx: ApiContext,
    pub clock: Arc<AtomicI64>,
    pub a: Tenant,
    pub b: Tenant,
    /// A key of tenant `a` with every scope.
    pub key_a: String,
    /// A key of tenant `b` with every scope.
    pub key_b: String,
    cleanup: Cleanup,
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn open(backend: Backend) -> Option<(Store, Cleanup)> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("dialtone-http-{}", random_suffix()));
            let store = Store::open(&DbLocation::Sqlite(dir.join("dialtone.db")), 8)
                .await
                .unwrap();
            Some((store, Cleanup::Sqlite(dir)))
        }
        Backend::Postgres => {
            let admin_url = match std::env::var("DIALTONE_TEST_DATABASE_URL") {
                Ok(url) if !url.is_empty() => url,
                _ => {
                    assert_ne!(
                        std::env::var("DIALTONE_REQUIRE_POSTGRES").as_deref(),
                        Ok("1"),
                        "DIALTONE_REQUIRE_POSTGRES=1 but DIALTONE_TEST_DATABASE_URL is not set"
                    );
                    eprintln!("skipping the PostgreSQL run: DIALTONE_TEST_DATABASE_URL is not set");
                    return None;
                }
            };
            let name = format!("dialtone_h_{}", random_suffix());
            sqlx::any::install_default_drivers();
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
            admin
                .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path(&format!("/{name}"));
            let store = Store::open(&DbLocation::Postgres(url.to_string()), 8)
                .await
                .unwrap();
            Some((store, Cleanup::Postgres { admin_url, name }))
        }
    }
}

impl App {
    /// An app with the default settings.
    pub async fn new(backend: Backend) -> Option<App> {
        App::with_config(backend, ApiConfig::default()).await
    }

    /// An app with `config`.
    pub async fn with_config(backend: Backend, config: ApiConfig) -> Option<App> {
        let (store, cleanup) = open(backend).await?;
        let clock = Arc::new(AtomicI64::new(T0));
        let mut ctx = ApiContext::new(store, config);
        let read = Arc::clone(&clock);
        ctx.now = Arc::new(move || read.load(Ordering::SeqCst));
        let a = ctx.store.create_tenant("acme", T0).await.unwrap();
        let b = ctx.store.create_tenant("globex", T0).await.unwrap();
        let mut app = App {
            router: dialtone_api::http::router(ctx.clone()),
            ctx,
            clock,
            key_a: String::new(),
            key_b: String::new(),
            a,
            b,
            cleanup,
        };
        app.key_a = app.key(&app.a.id.clone(), &["*"]).await;
        app.key_b = app.key(&app.b.id.clone(), &["*"]).await;
        Some(app)
    }

    /// A new API key of `tenant_id` with `scopes`.
    pub async fn key(&self, tenant_id: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.ctx
            .store
            .create_service_account(tenant_id, "test", &scopes, T0)
            .await
            .unwrap()
            .secret
    }

    /// Moves the clock on.
    pub fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    /// A request to build.
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    /// Closes the store and drops its database.
    pub async fn finish(self) {
        self.ctx.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
                if let Err(e) = admin
                    .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                    .await
                {
                    eprintln!("could not drop test database {name}: {e}");
                }
                admin.close().await.unwrap();
            }
        }
    }
}

/// A request being built.
pub struct Req<'a> {
    app: &'a App,
    builder: axum::http::request::Builder,
    body: Body,
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl<'a> Req<'a> {
    pub fn token(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = Body::from(body.into());
        self
    }

    /// The response without reading its body (for streams).
    pub async fn response(self) -> axum::response::Response {
        let request = self.builder.body(self.body).unwrap();
        self.app.router.clone().oneshot(request).await.unwrap()
    }

    pub async fn send(self) -> Resp {
        let response = self.response().await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }
}

/// Runs each named `async fn(App)` as two tests, `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::support::App::new($crate::support::Backend::Sqlite).await.unwrap();
                super::$name(&app).await;
                app.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::App::new($crate::support::Backend::Postgres).await {
                    super::$name(&app).await;
                    app.finish().await;
                }
            }
        }
    )+};
}

/// Like [`on_both_backends!`], with settings: `on_both_backends_with!(config_expr; name, ...)`.
macro_rules! on_both_backends_with {
    ($config:expr; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::support::App::with_config($crate::support::Backend::Sqlite, $config)
                    .await
                    .unwrap();
                super::$name(&app).await;
                app.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::support::App::with_config($crate::support::Backend::Postgres, $config).await
                {
                    super::$name(&app).await;
                    app.finish().await;
                }
            }
        }
    )+};
}

/// `POST /v2/agents` for `url` as tenant `a`; the 202 answer.
pub async fn provision(app: &App, url: &str) -> Resp {
    let r = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .json(serde_json::json!({"businessUrl": url, "verticalType": "dental"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    r
}

/// Asserts the error shape and code of an answer.
pub fn assert_error(r: &Resp, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    let e = &r.body["error"];
    assert!(e["message"].is_string(), "{}", r.text);
    assert!(e["retryable"].is_boolean(), "{}", r.text);
}
