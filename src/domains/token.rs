//! Domain tokens: bearer tokens that manage one domain. A token is 32 random bytes in hex, shown
//! once when made; the store keeps only its sha256 (a high-entropy token needs no slow hash), so a
//! stolen store reveals no token. The token's id is public and names it for revocation.

use sha2::{Digest, Sha256};

use crate::store::DomainToken;
use crate::types::unix_now;

/// A token just made: the record to keep and the token to show once.
pub struct NewToken {
    pub record: DomainToken,
    pub token: crate::secret::Secret,
}

/// The stored form of a bearer token: sha256, hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Makes a fresh token for `domain`.
pub fn generate(domain: &str, label: Option<String>) -> NewToken {
    let token = hex::encode(rand::random::<[u8; 32]>());
    NewToken {
        record: DomainToken {
            id: hex::encode(rand::random::<[u8; 8]>()),
            domain: domain.to_string(),
            token_hash: hash(&token),
            label,
            created_at: unix_now(),
        },
        token: crate::secret::Secret::new(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_hash() {
        let made = generate("example.com", None);
        assert_eq!(made.record.token_hash, hash(made.token.expose()));
        let json = serde_json::to_string(&made.record).expect("json");
        assert!(!json.contains(made.token.expose()));
        assert_ne!(generate("example.com", None).record.id, made.record.id);
    }
}
