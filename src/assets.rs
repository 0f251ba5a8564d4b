//! Static files embedded in the binary, each served under a content-hashed URL
//! (`/static/{hash}/{path}`) so browsers may cache them for a year.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
struct StaticFiles;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: std::borrow::Cow<'static, [u8]>,
    /// Its MIME type.
    pub content_type: String,
    /// The first 12 hex digits of its SHA-256.
    pub hash: String,
}

/// Every embedded static file by path.
#[derive(Debug, Clone)]
pub struct Assets(Arc<HashMap<String, Asset>>);

impl Assets {
    /// Hashes every embedded file once, at startup.
    pub fn load() -> Self {
        let mut map = HashMap::new();
        for path in StaticFiles::iter() {
            if let Some(file) = StaticFiles::get(&path) {
                let digest = Sha256::digest(&file.data);
                let hash = crate::services::token::to_hex(&digest[..6]);
                let content_type = mime_guess::from_path(path.as_ref())
                    .first_or_octet_stream()
                    .essence_str()
                    .to_owned();
                map.insert(
                    path.to_string(),
                    Asset {
                        bytes: file.data,
                        content_type,
                        hash,
                    },
                );
            }
        }
        Self(Arc::new(map))
    }

    /// The content-hashed URL of a static file (`None` if there is no such file).
    pub fn url(&self, path: &str) -> Option<String> {
        self.0
            .get(path)
            .map(|a| format!("/static/{}/{path}", a.hash))
    }

    /// The file at `path`, if its current hash is `hash`.
    pub fn get(&self, hash: &str, path: &str) -> Option<&Asset> {
        self.0.get(path).filter(|a| a.hash == hash)
    }
}
