//! Rebuilds the binary when a migration is added: `embed_migrations!` reads the migration folders
//! at compile time, but cargo does not know about folders a macro listed, so a new migration would
//! otherwise be missing from an incremental build until some Rust file changed.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
