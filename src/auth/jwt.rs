//! JWT access tokens: the claims, the pinned algorithms and keys, minting and verification.

use std::str::FromStr;

use chrono::Utc;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{AuthSettings, ConfigError};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "service" => Some(Role::Service),
            _ => None,
        }
    }
}

/// The claims of an access token (PROTOCOL.md section 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub tenant: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Role,
    /// Optional username for a platform-provisioned user, so @mentions can name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// The login (refresh-token family) this token came from; logout revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// The keys and the pinned algorithms: Confab's own (HMAC) and, optionally, the host platform's.
pub struct JwtKeys {
    own_alg: Algorithm,
    encoding: EncodingKey,
    own_decoding: DecodingKey,
    platform: Option<(Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    claims: crate::config::ClaimMapping,
}

impl JwtKeys {
    pub fn from_settings(s: &AuthSettings) -> Result<Self, ConfigError> {
        let own_alg = Algorithm::from_str(&s.jwt_algorithm)
            .map_err(|_| ConfigError("`auth.jwt_algorithm` is not a JWT algorithm".into()))?;
        let platform = if s.platform_jwt_algorithm.is_empty() {
            None
        } else {
            let alg = Algorithm::from_str(&s.platform_jwt_algorithm).map_err(|_| {
                ConfigError("`auth.platform_jwt_algorithm` is not a JWT algorithm".into())
            })?;
            let pem = std::fs::read(&s.platform_public_key_path).map_err(|e| {
                ConfigError(format!(
                    "`auth.platform_public_key_path` cannot be read: {e}"
                ))
            })?;
            let key = match alg {
                Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
                    DecodingKey::from_rsa_pem(&pem)
                }
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&pem),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
                _ => {
                    return Err(ConfigError(
                        "`auth.platform_jwt_algorithm` must be an asymmetric algorithm".into(),
                    ))
                }
            }
            .map_err(|e| {
                ConfigError(format!(
                    "`auth.platform_public_key_path` is not a usable PEM key: {e}"
                ))
            })?;
            Some((alg, key))
        };
        let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        Ok(JwtKeys {
            own_alg,
            encoding: EncodingKey::from_secret(s.jwt_secret.as_bytes()),
            own_decoding: DecodingKey::from_secret(s.jwt_secret.as_bytes()),
            platform,
            issuer: non_empty(&s.issuer),
            audience: non_empty(&s.audience),
            leeway: s.leeway_secs,
            claims: s.claims.clone(),
        })
    }

    /// Mints a token signed with Confab's own key; `iss`/`aud` are added when configured.
    pub fn mint(&self, mut claims: Claims) -> Result<String, AppError> {
        if claims.iss.is_none() {
            claims.iss = self.issuer.clone();
        }
        if claims.aud.is_none() {
            claims.aud = self.audience.clone().map(serde_json::Value::String);
        }
        encode(&Header::new(self.own_alg), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// Claims for a user token valid for `ttl_secs` from now.
    pub fn claims_for(
        user_id: Uuid,
        tenant: Uuid,
        name: &str,
        role: Role,
        ttl_secs: i64,
        sid: Option<Uuid>,
    ) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: user_id,
            tenant,
            name: Some(name.to_owned()),
            role,
            username: None,
            iat: now,
            exp: now + ttl_secs,
            nbf: None,
            iss: None,
            aud: None,
            sid,
        }
    }

    /// Verifies signature, algorithm, exp, nbf, iss and aud; every failure is `401 unauthorized`.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let unauthorized = || AppError::Unauthorized("invalid or expired token".into());
        // Unknown algorithms ("none" among them) fail to parse here.
        let header = decode_header(token).map_err(|_| unauthorized())?;
        let key = if header.alg == self.own_alg {
            &self.own_decoding
        } else {
            match &self.platform {
                Some((alg, key)) if *alg == header.alg => key,
                _ => return Err(unauthorized()),
            }
        };
        let mut v = Validation::new(header.alg);
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.validate_nbf = true;
        // The user claim is the mapped one (`auth.claims.user`), checked when the claims are read.
        let mut required = vec!["exp"];
        match &self.issuer {
            Some(iss) => {
                v.set_issuer(&[iss]);
                required.push("iss");
            }
            None => v.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        v.set_required_spec_claims(&required);
        let raw = decode::<serde_json::Map<String, serde_json::Value>>(token, key, &v)
            .map(|d| d.claims)
            .map_err(|_| unauthorized())?;
        self.claims.read(raw)
    }
}
