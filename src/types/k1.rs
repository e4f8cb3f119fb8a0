//! The k1 of a LUD-03 withdraw link: 64 hex characters, the link's name and its bearer secret.
//! Parsed where a request names it, so the domain only ever sees a well-formed one.

use std::fmt;
use std::str::FromStr;

/// A withdraw link's k1, as the request wrote it (hex, validated). Its `Debug` hides it: whoever
/// knows a k1 can spend from the link.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct K1(String);

/// A k1 that is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid k1: expected 64 hex characters")]
pub struct BadK1;

impl K1 {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for K1 {
    type Err = BadK1;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadK1);
        }
        Ok(K1(s.to_string()))
    }
}

impl fmt::Debug for K1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("K1(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_hex_characters_parse() {
        let good = "ab".repeat(32);
        assert_eq!(good.parse::<K1>().map(|k| k.as_str().to_string()), Ok(good));
        assert_eq!("ab".repeat(31).parse::<K1>(), Err(BadK1));
        assert_eq!("zz".repeat(32).parse::<K1>(), Err(BadK1));
        assert!(!format!("{:?}", "ab".repeat(32).parse::<K1>()).contains("abab"));
    }
}
