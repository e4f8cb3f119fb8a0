//! LUD-01: an LNURL is the bech32 encoding (hrp `lnurl`, no length limit beyond bech32's own) of a
//! URL's bytes. Wallets expect upper case in QR codes (smaller alphanumeric mode) and accept either.

use bitcoin::bech32::{self, Bech32, Hrp};

/// Why an LNURL could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum LnurlError {
    /// The URL is too long for a bech32 string.
    #[error("URL too long to encode as LNURL")]
    TooLong(#[source] bech32::EncodeError),
    /// Not a valid bech32 string.
    #[error("not a bech32 LNURL")]
    Bech32(#[source] bech32::DecodeError),
    /// Valid bech32 but not the `lnurl` prefix or not UTF-8.
    #[error("not an LNURL")]
    NotLnurl,
}

/// Encodes `url` as an upper-case LNURL (`LNURL1...`), as LUD-01 recommends for QR codes.
pub fn encode(url: &str) -> Result<String, LnurlError> {
    let hrp = Hrp::parse_unchecked("lnurl");
    let lower = bech32::encode::<Bech32>(hrp, url.as_bytes()).map_err(LnurlError::TooLong)?;
    Ok(lower.to_ascii_uppercase())
}

/// Decodes an LNURL (either case) back to its URL.
pub fn decode(lnurl: &str) -> Result<String, LnurlError> {
    let (hrp, data) = bech32::decode(lnurl).map_err(LnurlError::Bech32)?;
    if !hrp.as_str().eq_ignore_ascii_case("lnurl") {
        return Err(LnurlError::NotLnurl);
    }
    String::from_utf8(data).map_err(|_| LnurlError::NotLnurl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lud01_example_vector() {
        // The example from LUD-01.
        let url = "https://service.com/api?q=3fc3645b439ce8e7f2553a69e5267081d96dcd340693afabe04be7b0ccd178df";
        let lnurl = "LNURL1DP68GURN8GHJ7UM9WFMXJCM99E3K7MF0V9CXJ0M385EKVCENXC6R2C35XVUKXEFCV5MKVV34X5EKZD3EV56NYD3HXQURZEPEXEJXXEPNXSCRVWFNV9NXZCN9XQ6XYEFHVGCXXCMYXYMNSERXFQ5FNS";
        assert_eq!(encode(url).expect("encodes"), lnurl);
        assert_eq!(decode(lnurl).expect("decodes"), url);
        assert_eq!(decode(&lnurl.to_lowercase()).expect("decodes"), url);
    }

    #[test]
    fn rejects_other_prefixes() {
        assert!(matches!(
            decode("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
            Err(LnurlError::NotLnurl)
        ));
        assert!(decode("lnurl1garbage").is_err());
    }
}
