//! Authentication: argon2id passwords, JWT access tokens, refresh tokens, login throttling.

pub mod claims;
pub mod credentials;
pub mod extractor;
pub mod jwt;
pub mod password;
pub mod throttle;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use extractor::{AuthUser, ServiceUser};
pub use jwt::{Claims, JwtKeys, Role};

/// A fresh opaque secret (refresh token, WebSocket ticket): 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of an opaque secret: its SHA-256, so a leaked table grants nothing.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
