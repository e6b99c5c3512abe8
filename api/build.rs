// `sqlx::migrate!` embeds the migration files at compile time but cannot tell cargo to watch them: without
// this, editing only a .sql file would leave the old schema in the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
