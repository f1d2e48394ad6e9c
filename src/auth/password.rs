//! argon2id hashing on the blocking pool, with a cap on how many hashes run at once.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::{AuthSettings, ConfigError};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash to verify against when the account does not exist, so both cases cost the same.
    dummy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    pub fn new(s: &AuthSettings) -> Result<Self, ConfigError> {
        let params = Params::new(
            s.argon2_memory_kib,
            s.argon2_iterations,
            s.argon2_parallelism,
            None,
        )
        .map_err(|e| ConfigError(format!("`auth.argon2_memory_kib` argon2 parameters: {e}")))?;
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(s.argon2_max_concurrent)),
            dummy: Arc::new(OnceLock::new()),
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes on the blocking pool (never on an actor or worker thread).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let params = self.params.clone();
        actix_web::web::block(move || hash_now(params, &password)).await?
    }

    /// Verifies `password` against `hash`; with no hash (unknown account) it burns the same time
    /// and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let params = self.params.clone();
        let dummy = self.dummy.clone();
        actix_web::web::block(move || {
            let (stored, real) = match hash {
                Some(h) => (h, true),
                None => {
                    let d = match dummy.get() {
                        Some(d) => d.clone(),
                        None => {
                            let d = hash_now(params.clone(), "confab-dummy-password")?;
                            dummy.get_or_init(|| d).clone()
                        }
                    };
                    (d, false)
                }
            };
            let parsed = PasswordHash::new(&stored).map_err(AppError::internal)?;
            let ok = Self::argon2(params)
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await?
    }
}

fn hash_now(params: Params, password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    PasswordHasher::argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}
