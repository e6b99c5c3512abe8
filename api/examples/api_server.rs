//! The REST API v2 alone: the router over a store, with no call side and no job or webhook workers.
//!
//! `scripts/schemathesis.sh` fuzzes this rather than `dialtone serve`: generated requests create agents
//! and webhooks with arbitrary public URLs, and the workers of a full server would try to crawl and call
//! them. Here nothing leaves the machine; the routes, store and answers are the same.
//!
//! Usage: `api_server [--data-dir DIR] [--http ADDR] [--write-rate N] [--read-rate N]` (defaults `data`,
//! `127.0.0.1:8080`, the `ApiConfig` rates; 0 means unlimited). `DATABASE_URL` is honoured like `serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use dialtone_api::store::{DbLocation, Store};
use dialtone_api::{ApiConfig, ApiContext};

struct Args {
    data_dir: PathBuf,
    http: SocketAddr,
    config: ApiConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        data_dir: PathBuf::from("data"),
        http: SocketAddr::from(([127, 0, 0, 1], 8080)),
        config: ApiConfig::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--data-dir" => args.data_dir = PathBuf::from(&value),
            "--http" => args.http = value.parse().map_err(|e| bad(&e))?,
            "--write-rate" => {
                args.config.write_rate_per_minute = value.parse().map_err(|e| bad(&e))?
            }
            "--read-rate" => {
                args.config.read_rate_per_minute = value.parse().map_err(|e| bad(&e))?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let store = Store::open(&DbLocation::from_env(&args.data_dir)?, 8).await?;
    let router = dialtone_api::http::router(ApiContext::new(store, args.config));
    let listener = tokio::net::TcpListener::bind(args.http).await?;
    println!("REST API v2 on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
