//! HS256 access and refresh tokens. A `typ` claim makes each kind useless as the other: a
//! refresh token presented as a bearer token is refused, and vice versa.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    pub typ: TokenType,
    pub iat: u64,
    pub exp: u64,
    /// Unique per token, so two tokens issued in the same second still differ.
    pub jti: Uuid,
}

/// Why a token was refused. Each maps to a 401 whose message says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token has expired.")]
    Expired,
    #[error("Token is invalid.")]
    Invalid,
    #[error("Token has the wrong type.")]
    WrongType,
}

/// Signing keys and lifetimes, built once at start-up.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Built once: every request verifies a token with it.
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    leeway: u64,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("access_ttl", &self.access_ttl).field("refresh_ttl", &self.refresh_ttl).finish()
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Keys {
    /// Keys for `secret`, issuing tokens that live `access_ttl` and `refresh_ttl`, with no clock
    /// leeway (Simple JWT's default `LEEWAY = 0`; see [`Keys::with_leeway`]).
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
            leeway: 0,
        }
    }

    /// Tolerates `leeway` of clock skew between the issuer and this server on `exp`, `nbf` and
    /// `iat` (Simple JWT's `LEEWAY`), for deployments whose servers' clocks drift apart.
    pub fn with_leeway(mut self, leeway: Duration) -> Keys {
        self.leeway = leeway.as_secs();
        self.validation.leeway = self.leeway;
        self
    }

    /// A signed token of type `typ` for `user_id`, living the configured lifetime of its type.
    /// A refresh token issued this way refreshes nothing until the server records it
    /// (`auth/refresh_tokens.rs`): issue those with [`Keys::issue_claims`].
    pub fn issue(&self, user_id: Uuid, typ: TokenType) -> String {
        self.issue_claims(user_id, typ).0
    }

    /// As [`Keys::issue`], with the claims signed (their `jti` is the refresh token's record).
    pub fn issue_claims(&self, user_id: Uuid, typ: TokenType) -> (String, Claims) {
        let ttl = match typ {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        let iat = now();
        let claims = Claims { sub: user_id, typ, iat, exp: iat + ttl.as_secs(), jti: Uuid::now_v7() };
        // HS256 signing of a serialisable struct cannot fail.
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing failed");
        (token, claims)
    }

    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?
            .claims;
        if claims.typ != expected {
            return Err(TokenError::WrongType);
        }
        // Signed by our secret, yet not a token this server would issue: issued in the future,
        // or living longer than its type is configured to (a leaked secret, a misconfigured
        // issuer, or a lifetime that was shortened since): refused.
        let ttl = match claims.typ {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        if claims.iat > now().saturating_add(self.leeway)
            || claims.exp.saturating_sub(claims.iat) > ttl.as_secs().saturating_add(self.leeway)
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60), Duration::from_secs(600))
    }

    #[test]
    fn round_trip_and_type_check() {
        let k = keys();
        let user = Uuid::now_v7();
        let access = k.issue(user, TokenType::Access);
        assert_eq!(k.verify(&access, TokenType::Access).unwrap().sub, user);
        assert_eq!(k.verify(&access, TokenType::Refresh).unwrap_err(), TokenError::WrongType);
        let refresh = k.issue(user, TokenType::Refresh);
        assert_eq!(k.verify(&refresh, TokenType::Access).unwrap_err(), TokenError::WrongType);
    }

    /// A token signed with the test secret whose claims are `claims`.
    fn forged(claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"))
            .unwrap()
    }

    #[test]
    fn iat_nbf_and_lifetime_are_checked() {
        let k = keys();
        let (user, t) = (Uuid::now_v7(), now());
        let claims =
            |iat: u64, exp: u64| serde_json::json!({"sub": user, "typ": "access", "iat": iat, "exp": exp, "jti": user});
        assert!(k.verify(&forged(claims(t, t + 60)), TokenType::Access).is_ok());
        // Issued in the future.
        assert_eq!(k.verify(&forged(claims(t + 30, t + 60)), TokenType::Access).unwrap_err(), TokenError::Invalid);
        // Living longer than an access token does (60 s here).
        assert_eq!(k.verify(&forged(claims(t, t + 61)), TokenType::Access).unwrap_err(), TokenError::Invalid);
        assert_eq!(k.verify(&forged(claims(t - 3600, t + 3600)), TokenType::Access).unwrap_err(), TokenError::Invalid);
        // No iat at all.
        let no_iat = serde_json::json!({"sub": user, "typ": "access", "exp": t + 60, "jti": user});
        assert_eq!(k.verify(&forged(no_iat), TokenType::Access).unwrap_err(), TokenError::Invalid);
        // Not before a time still to come.
        let mut nbf = claims(t, t + 60);
        nbf["nbf"] = serde_json::json!(t + 30);
        assert_eq!(k.verify(&forged(nbf.clone()), TokenType::Access).unwrap_err(), TokenError::Invalid);
        // A leeway tolerates that much skew, no more.
        let lenient = keys().with_leeway(Duration::from_secs(40));
        assert!(lenient.verify(&forged(nbf), TokenType::Access).is_ok());
        assert!(lenient.verify(&forged(claims(t + 30, t + 60)), TokenType::Access).is_ok());
        assert!(lenient.verify(&forged(claims(t + 50, t + 110)), TokenType::Access).is_err());
    }

    #[test]
    fn bad_signature_garbage_and_expiry() {
        let k = keys();
        let other = Keys::new(b"another-secret-another-secret-xx", Duration::from_secs(60), Duration::from_secs(60));
        let token = other.issue(Uuid::now_v7(), TokenType::Access);
        assert_eq!(k.verify(&token, TokenType::Access).unwrap_err(), TokenError::Invalid);
        assert_eq!(k.verify("not.a.jwt", TokenType::Access).unwrap_err(), TokenError::Invalid);
        let expired = Keys::new(b"0123456789abcdef0123456789abcdef", Duration::ZERO, Duration::ZERO);
        let token = expired.issue(Uuid::now_v7(), TokenType::Access);
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(k.verify(&token, TokenType::Access).unwrap_err(), TokenError::Expired);
    }
}
