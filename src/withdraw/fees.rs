//! The fee reserve of a withdrawal (LUD-03 payments go out over Lightning, whose routing fee is
//! only known afterwards): `max(min_fee_reserve, ceil(amount * fee_reserve_ppm / 1e6))`, in
//! integers (u128, no floats), and the largest amount a balance can pay with its reserve.

use crate::config::WithdrawSettings;
use crate::types::Msat;

impl WithdrawSettings {
    /// The fee reserve for `amount`, in integers (u128, rounded up).
    pub fn fee_reserve(&self, amount: Msat) -> Msat {
        let ppm = u128::from(amount.msat()) * u128::from(self.fee_reserve_ppm);
        let part = ppm.div_ceil(1_000_000);
        Msat::from_msat(
            u64::try_from(part)
                .unwrap_or(u64::MAX)
                .max(self.min_fee_reserve.msat()),
        )
    }

    /// The largest amount whose `amount + fee reserve` fits in `balance` (0 when none does).
    pub fn max_payable(&self, balance: Msat) -> Msat {
        let fits = |a: u64| {
            self.fee_reserve(Msat::from_msat(a))
                .checked_add(Msat::from_msat(a))
                .is_some_and(|t| t <= balance)
        };
        let Some(mut a) = balance.msat().checked_sub(self.min_fee_reserve.msat()) else {
            return Msat::ZERO;
        };
        if !fits(a) {
            let scaled = u128::from(balance.msat()) * 1_000_000
                / (1_000_000 + u128::from(self.fee_reserve_ppm));
            a = u64::try_from(scaled).unwrap_or(u64::MAX).min(a);
            while a > 0 && !fits(a) {
                a -= 1;
            }
        }
        Msat::from_msat(a)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::WithdrawSettings;
    use crate::types::Msat;

    #[test]
    fn fee_reserve_is_integer_and_max_payable_fits() {
        let w = WithdrawSettings {
            fee_reserve_ppm: 10_000,
            min_fee_reserve: Msat::from_msat(10_000),
            payment_timeout_secs: 60,
        };
        assert_eq!(
            w.fee_reserve(Msat::from_msat(1_000)),
            Msat::from_msat(10_000)
        );
        assert_eq!(
            w.fee_reserve(Msat::from_msat(5_000_001)),
            Msat::from_msat(50_001)
        );
        assert_eq!(w.fee_reserve(Msat::MAX).msat(), u64::MAX / 100 + 1);
        for balance in [0, 9_999, 10_000, 10_001, 1_010_000, 2_000_000, 123_456_789] {
            let a = w.max_payable(Msat::from_msat(balance));
            if a.msat() > 0 {
                assert!(
                    a.msat() + w.fee_reserve(a).msat() <= balance,
                    "{balance}: {a:?}"
                );
            }
            let next = a.msat() + 1;
            assert!(
                next + w.fee_reserve(Msat::from_msat(next)).msat() > balance,
                "{balance}: {a:?} not max"
            );
        }
    }
}
