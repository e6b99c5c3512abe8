//! The `dialtone` binary.

fn main() -> anyhow::Result<()> {
    println!("dialtone {}", env!("CARGO_PKG_VERSION"));
    Ok(())
}
