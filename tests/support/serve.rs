//! The real `dialtone serve` binary for scenario tests: a temporary data directory, API keys made by
//! `dialtone admin create-key`, and the server on a loopback port over it. Include it with
//! `#[path = "support/serve.rs"] mod serve;`.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the server may take to start listening.
const START: Duration = Duration::from_secs(60);

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(what: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("dialtone-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new API key with `scopes` in `data`'s store, for tenant `acme` (the key is `create-key`'s last line).
pub fn create_key(data: &Path, scopes: &str) -> String {
    create_tenant_key(data, "acme", scopes)
}

/// A new API key with `scopes` for `tenant`.
pub fn create_tenant_key(data: &Path, tenant: &str, scopes: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args([
            "admin",
            "create-key",
            "--tenant",
            tenant,
            "--scopes",
            scopes,
        ])
        .arg("--data-dir")
        .arg(data)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("sk_live_"), "{stdout}");
    key
}

/// A running `dialtone serve`; killed when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The process.
    pub child: Child,
}

impl Server {
    /// Starts `dialtone serve` on `data` and waits until it listens. No SIP; speech providers are the
    /// OpenAI ones pointed at a closed port, so nothing loads (no call is made in these tests).
    pub async fn start(data: &Path) -> Server {
        Self::start_with(data, &[], &[]).await
    }

    /// [`Server::start`] with more arguments and environment. Servers started on one data directory
    /// append to one `server.log`.
    pub async fn start_with(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let providers = ["--stt", "openai", "--tts", "openai", "--vad", "webrtc"];
        Self::start_with_providers(data, &providers, args, env).await
    }

    /// [`Server::start_with`] with these provider flags instead of the unreachable OpenAI ones (clap
    /// refuses a flag given twice, so they cannot be overridden through `args`).
    pub async fn start_with_providers(
        data: &Path,
        providers: &[&str],
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("server.log"))
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["serve", "--http", "127.0.0.1:0"])
            .args(providers)
            .arg("--agents")
            .arg(data.join("no-agents"))
            .arg("--data-dir")
            .arg(data)
            .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
            .env("DIALTONE_NO_SIP", "1")
            .env("RUST_LOG", "warn,dialtone=info")
            .args(args)
            .envs(env.iter().copied())
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Dialtone is answering calls on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("the server exited before listening; see its server.log");
        };
        let url = tokio::time::timeout(START, ready).await.unwrap();
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server { url, child }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
