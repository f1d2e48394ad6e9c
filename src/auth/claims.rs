//! The claim mapping: a platform's own tokens (its user-id claim, integer or UUID; its tenant
//! claim or none) read into Confab's `Claims`, so they work without being minted again.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::jwt::Claims;
use crate::config::ClaimMapping;
use crate::error::AppError;

/// The high half of the id Confab gives a platform's integer user id `n`: `{prefix}-…-{n}`.
const INTEGER_ID_PREFIX: u64 = 0x706c_6174_666f_726d;

/// A platform's user id as Confab's: a UUID as it is, an integer `n` (or its digits) as the
/// fixed UUID `706c6174-666f-726d-…` ending in `n`, the same on every node and every call.
pub fn platform_user_id(value: &Value) -> Option<Uuid> {
    match value {
        Value::Number(n) => n.as_u64().map(integer_id),
        Value::String(s) => parse_user_id(s),
        _ => None,
    }
}

/// A user id as a seed's URL or body writes it: a UUID or an integer.
pub fn parse_user_id(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s)
        .ok()
        .or_else(|| s.parse::<u64>().ok().map(integer_id))
}

fn integer_id(n: u64) -> Uuid {
    Uuid::from_u64_pair(INTEGER_ID_PREFIX, n)
}

/// The integer a platform gave a user, when Confab's id was made from one.
pub fn integer_of(id: Uuid) -> Option<u64> {
    let (high, low) = id.as_u64_pair();
    (high == INTEGER_ID_PREFIX).then_some(low)
}

impl ClaimMapping {
    /// Reads verified raw claims: the mapped user, tenant and name claims, the rest as they are.
    pub fn read(&self, mut raw: Map<String, Value>) -> Result<Claims, AppError> {
        let refused = || AppError::Unauthorized("invalid or expired token".into());
        let user = raw
            .get(&self.user)
            .and_then(platform_user_id)
            .ok_or_else(refused)?;
        let tenant = match raw.get(&self.tenant) {
            Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| refused())?,
            Some(_) => return Err(refused()),
            None if !self.default_tenant.is_empty() => {
                Uuid::parse_str(&self.default_tenant).map_err(|_| refused())?
            }
            None => return Err(refused()),
        };
        let name = raw.get(&self.name).cloned();
        raw.insert("sub".into(), Value::String(user.to_string()));
        raw.insert("tenant".into(), Value::String(tenant.to_string()));
        match name {
            Some(Value::String(n)) => raw.insert("name".into(), Value::String(n)),
            _ => raw.remove("name"),
        };
        serde_json::from_value(Value::Object(raw)).map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn simplejwt() -> ClaimMapping {
        ClaimMapping {
            user: "user_id".into(),
            tenant: "tenant".into(),
            name: "username".into(),
            default_tenant: "00000000-0000-0000-0000-000000000001".into(),
        }
    }

    fn raw(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn simplejwt_integer_user_and_default_tenant() {
        let c = simplejwt()
            .read(raw(
                json!({"token_type": "access", "exp": 9999999999i64, "jti": "x",
                "user_id": 42, "username": "ada"}),
            ))
            .unwrap();
        assert_eq!(integer_of(c.sub), Some(42));
        assert_eq!(c.tenant, Uuid::from_u128(1));
        assert_eq!(c.name.as_deref(), Some("ada"));
    }

    #[test]
    fn uuid_user_as_string_and_digits_agree_with_numbers() {
        let id = Uuid::new_v4();
        let c = simplejwt()
            .read(raw(json!({"exp": 1, "user_id": id.to_string()})))
            .unwrap();
        assert_eq!(c.sub, id);
        assert_eq!(parse_user_id("42"), platform_user_id(&json!(42)));
        assert_eq!(parse_user_id("x"), None);
    }

    #[test]
    fn refused_without_user_or_tenant() {
        let none = ClaimMapping::default();
        assert!(none.read(raw(json!({"exp": 1, "user_id": 3}))).is_err());
        let no_tenant = json!({"exp": 1, "sub": Uuid::new_v4().to_string()});
        assert!(none.read(raw(no_tenant)).is_err());
        assert!(simplejwt()
            .read(raw(json!({"exp": 1, "user_id": [1]})))
            .is_err());
        let bad_tenant = json!({"exp": 1, "user_id": 1, "tenant": 7});
        assert!(simplejwt().read(raw(bad_tenant)).is_err());
    }

    #[test]
    fn default_mapping_reads_confab_claims() {
        let (sub, tenant) = (Uuid::new_v4(), Uuid::new_v4());
        let c = ClaimMapping::default()
            .read(raw(json!({"exp": 1, "sub": sub.to_string(),
                "tenant": tenant.to_string(), "name": "Ada"})))
            .unwrap();
        assert_eq!(
            (c.sub, c.tenant, c.name.as_deref()),
            (sub, tenant, Some("Ada"))
        );
    }
}
