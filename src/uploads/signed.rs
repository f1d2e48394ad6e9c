//! Signed file URLs: `?uid=&exp=&sig=` beside a download path, an HMAC of the file, the user it
//! was made for and its expiry, so `<img src>`, `<a download>` and media players can fetch a file
//! without a bearer header. The one place that makes and checks them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use uuid::Uuid;

use crate::db;
use crate::db::attachments::Reader;
use crate::error::{AppError, AppResult};
use crate::protocol::views::AttachmentView;

type HmacSha256 = Hmac<Sha256>;

/// Separates this key from every other use of the JWT secret.
const KEY_LABEL: &[u8] = b"confab signed file urls v1";

/// The query a signed URL carries.
#[derive(Debug, Clone, Deserialize)]
pub struct SignedQuery {
    pub uid: Uuid,
    pub exp: i64,
    pub sig: String,
}

/// Makes and checks signed URLs with a key derived from `auth.jwt_secret`.
pub struct UrlSigner {
    key: Vec<u8>,
    ttl_secs: i64,
}

impl UrlSigner {
    pub fn new(secret: &str, ttl_secs: i64) -> Self {
        UrlSigner {
            key: mac(secret.as_bytes(), KEY_LABEL),
            ttl_secs,
        }
    }

    fn signature(&self, file: Uuid, user: Uuid, exp: i64) -> Vec<u8> {
        mac(&self.key, format!("{file}.{user}.{exp}").as_bytes())
    }

    /// The query string (without `?`) that lets `user` fetch `file` until `exp` (Unix seconds).
    pub fn query(&self, file: Uuid, user: Uuid, exp: i64) -> String {
        let sig = URL_SAFE_NO_PAD.encode(self.signature(file, user, exp));
        format!("uid={user}&exp={exp}&sig={sig}")
    }

    /// Adds the signed URLs for `user`, valid for `uploads.url_ttl_secs` from `now`.
    pub fn stamp(&self, a: &mut AttachmentView, user: Uuid, now: DateTime<Utc>) {
        let exp = now.timestamp() + self.ttl_secs;
        let q = self.query(a.id, user, exp);
        a.signed_url = Some(format!("{}?{q}", a.url));
        a.signed_thumbnail_url = a.thumbnail_url.as_ref().map(|t| format!("{t}?{q}"));
        a.signed_until = Utc.timestamp_opt(exp, 0).single();
    }

    /// The user a signed URL for `file` was made for, if its signature is right and it has not
    /// expired; 403 otherwise. Whether that user may still read the file is the caller's check.
    pub fn verify(&self, file: Uuid, q: &SignedQuery, now: DateTime<Utc>) -> AppResult<Uuid> {
        let refused = || AppError::Forbidden("this file link is invalid or has expired".into());
        let sig = URL_SAFE_NO_PAD.decode(&q.sig).map_err(|_| refused())?;
        let mut m = HmacSha256::new_from_slice(&self.key).map_err(|_| refused())?;
        m.update(format!("{file}.{}.{}", q.uid, q.exp).as_bytes());
        m.verify_slice(&sig).map_err(|_| refused())?;
        if q.exp <= now.timestamp() {
            return Err(refused());
        }
        Ok(q.uid)
    }
}

/// The reader a signed URL for `file` stands for: its signature and expiry are right, and the
/// user it was made for still exists and is not banned. Whether they may still read the file is
/// `db::attachments::readable`'s question, asked on every use like the bearer path asks it.
pub async fn reader(
    conn: &mut db::Conn,
    signer: &UrlSigner,
    file: Uuid,
    q: &SignedQuery,
) -> AppResult<Reader> {
    let user_id = signer.verify(file, q, Utc::now())?;
    let user = db::users::find(conn, user_id)
        .await?
        .filter(|u| !u.is_banned)
        .ok_or(AppError::NotFound)?;
    Ok(Reader {
        user_id,
        tenant_id: user.tenant_id,
        trusted: matches!(user.role.as_str(), "admin" | "service"),
    })
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UrlSigner {
        UrlSigner::new("a-test-secret-of-at-least-32-bytes!!", 600)
    }

    fn parts(q: &str) -> SignedQuery {
        let get = |k: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .unwrap_or_default()
                .to_owned()
        };
        SignedQuery {
            uid: get("uid").parse().unwrap(),
            exp: get("exp").parse().unwrap(),
            sig: get("sig"),
        }
    }

    #[test]
    fn a_signed_query_verifies_for_its_file_until_it_expires() {
        let s = signer();
        let (file, user, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let q = parts(&s.query(file, user, now.timestamp() + 60));
        assert_eq!(s.verify(file, &q, now).unwrap(), user);
        assert!(s.verify(Uuid::new_v4(), &q, now).is_err());
        let later = now + chrono::Duration::seconds(61);
        assert!(s.verify(file, &q, later).is_err());
    }

    #[test]
    fn a_changed_user_expiry_or_signature_is_refused() {
        let s = signer();
        let (file, user, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let q = parts(&s.query(file, user, now.timestamp() + 60));
        let other_user = SignedQuery {
            uid: Uuid::new_v4(),
            ..q.clone()
        };
        assert!(s.verify(file, &other_user, now).is_err());
        let longer = SignedQuery {
            exp: q.exp + 3600,
            ..q.clone()
        };
        assert!(s.verify(file, &longer, now).is_err());
        let first = if q.sig.starts_with('A') { "B" } else { "A" };
        let bad = SignedQuery {
            sig: format!("{first}{}", &q.sig[1..]),
            ..q.clone()
        };
        assert!(s.verify(file, &bad, now).is_err());
        let garbage = SignedQuery {
            sig: "%%%".into(),
            ..q
        };
        assert!(s.verify(file, &garbage, now).is_err());
    }

    #[test]
    fn another_secret_signs_differently() {
        let (file, user) = (Uuid::new_v4(), Uuid::new_v4());
        let a = signer().query(file, user, 1);
        let b = UrlSigner::new("another-secret-of-at-least-32-bytes!", 600).query(file, user, 1);
        assert_ne!(a, b);
    }
}
