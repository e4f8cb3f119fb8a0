//! Money: [`Msat`], an amount in integer millisatoshis. Its value is private, so an amount is made
//! and read only through the named operations here: arithmetic that can overflow is checked or
//! says that it saturates, and the conversions to and from whole satoshis say which way they round.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Millisatoshis in one satoshi.
const MSAT_PER_SAT: u64 = 1_000;

/// An amount in millisatoshis. All money in lnaddr is exact integer arithmetic on this type.
///
/// It serializes as the bare integer (serde `transparent`), so records, stored values and wire
/// fields hold plain millisatoshis.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Msat(u64);

impl Msat {
    pub const ZERO: Msat = Msat(0);
    /// The largest amount: an unlimited cap.
    pub const MAX: Msat = Msat(u64::MAX);

    /// An amount of `msat` millisatoshis.
    pub const fn from_msat(msat: u64) -> Msat {
        Msat(msat)
    }

    /// An amount of `sat` whole satoshis; `None` when it does not fit in `u64` millisatoshis.
    pub const fn from_sat(sat: u64) -> Option<Msat> {
        match sat.checked_mul(MSAT_PER_SAT) {
            Some(msat) => Some(Msat(msat)),
            None => None,
        }
    }

    /// The amount in millisatoshis.
    pub const fn msat(self) -> u64 {
        self.0
    }

    /// Whole satoshis, rounded down: what a balance or an amount received shows.
    pub const fn sat_floor(self) -> u64 {
        self.0 / MSAT_PER_SAT
    }

    /// Whole satoshis, rounded up: what an amount spent or a minimum shows.
    pub const fn sat_ceil(self) -> u64 {
        self.0.div_ceil(MSAT_PER_SAT)
    }

    /// The millisatoshis beyond the whole satoshis of [`Msat::sat_floor`] (0 to 999).
    pub const fn sub_sat(self) -> u64 {
        self.0 % MSAT_PER_SAT
    }

    pub const fn checked_add(self, other: Msat) -> Option<Msat> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Msat(sum)),
            None => None,
        }
    }

    pub const fn checked_sub(self, other: Msat) -> Option<Msat> {
        match self.0.checked_sub(other.0) {
            Some(rest) => Some(Msat(rest)),
            None => None,
        }
    }

    /// `self + other`, or [`Msat::MAX`] on overflow: for totals that are shown, never stored.
    pub const fn saturating_add(self, other: Msat) -> Msat {
        Msat(self.0.saturating_add(other.0))
    }

    /// `self - other`, or zero when `other` is larger: what is left of a hold or a reserve.
    pub const fn saturating_sub(self, other: Msat) -> Msat {
        Msat(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} msat", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_sat_is_checked() {
        assert_eq!(Msat::from_sat(0), Some(Msat::ZERO));
        assert_eq!(Msat::from_sat(21), Some(Msat::from_msat(21_000)));
        let top = u64::MAX / 1_000;
        assert_eq!(Msat::from_sat(top), Some(Msat::from_msat(top * 1_000)));
        assert_eq!(Msat::from_sat(top + 1), None);
        assert_eq!(Msat::from_sat(u64::MAX), None);
    }

    #[test]
    fn sat_conversions_round_as_named() {
        // (msat, floor, ceil, sub_sat)
        let cases = [
            (0, 0, 0, 0),
            (1, 0, 1, 1),
            (999, 0, 1, 999),
            (1_000, 1, 1, 0),
            (1_001, 1, 2, 1),
            (1_999, 1, 2, 999),
            (
                u64::MAX,
                u64::MAX / 1_000,
                u64::MAX / 1_000 + 1,
                u64::MAX % 1_000,
            ),
        ];
        for (msat, floor, ceil, rest) in cases {
            let m = Msat::from_msat(msat);
            assert_eq!(m.msat(), msat);
            assert_eq!(m.sat_floor(), floor, "floor of {msat}");
            assert_eq!(m.sat_ceil(), ceil, "ceil of {msat}");
            assert_eq!(m.sub_sat(), rest, "rest of {msat}");
            assert_eq!(m.sat_floor() * 1_000 + m.sub_sat(), msat);
        }
    }

    #[test]
    fn arithmetic_is_checked_or_saturating() {
        let (one, two) = (Msat::from_msat(1), Msat::from_msat(2));
        assert_eq!(one.checked_add(one), Some(two));
        assert_eq!(Msat::MAX.checked_add(one), None);
        assert_eq!(two.checked_sub(one), Some(one));
        assert_eq!(one.checked_sub(two), None);
        assert_eq!(Msat::MAX.saturating_add(one), Msat::MAX);
        assert_eq!(one.saturating_sub(two), Msat::ZERO);
        assert_eq!(two.saturating_sub(one), one);
    }

    #[test]
    fn serializes_as_the_bare_integer() {
        let m = Msat::from_msat(21_000);
        assert_eq!(serde_json::to_string(&m).ok().as_deref(), Some("21000"));
        assert_eq!(serde_json::from_str::<Msat>("21000").ok(), Some(m));
        assert_eq!(
            serde_json::to_string(&Msat::MAX).ok().as_deref(),
            Some("18446744073709551615")
        );
        assert!(serde_json::from_str::<Msat>("-1").is_err());
        assert!(serde_json::from_str::<Msat>("1.5").is_err());
        assert_eq!(m.to_string(), "21000 msat");
    }
}
