//! Budget periods of NWC connections, pure: the start (unix seconds, UTC) of the period that
//! contains a moment. Daily periods start at midnight, weekly ones on Monday, monthly ones on the
//! first of the month, yearly ones on January 1st; a budget that never renews has one period
//! starting at 0. Calendar arithmetic on days since the epoch (H. Hinnant's civil algorithms).

use crate::store::BudgetRenewal;
use crate::types::civil_from_days;

const DAY: u64 = 86_400;

/// The start of the period of `renewal` that contains `now`.
pub fn period_start(renewal: BudgetRenewal, now: u64) -> u64 {
    let days = now / DAY;
    let start_day = match renewal {
        BudgetRenewal::Never => return 0,
        BudgetRenewal::Daily => days,
        // 1970-01-01 was a Thursday: three days after a Monday.
        BudgetRenewal::Weekly => days - (days + 3) % 7,
        BudgetRenewal::Monthly => {
            let (y, m, _) = civil_from_days(days);
            days_from_civil(y, m, 1)
        }
        BudgetRenewal::Yearly => {
            let (y, _, _) = civil_from_days(days);
            days_from_civil(y, 1, 1)
        }
    };
    start_day * DAY
}

/// Days since 1970-01-01 of a date from 1970 on.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01T22:15:41Z, a Tuesday.
    const NOW: u64 = 1_796_163_341;

    #[test]
    fn periods_start_where_the_calendar_says() {
        assert_eq!(period_start(BudgetRenewal::Never, NOW), 0);
        // 2026-12-01T00:00:00Z
        assert_eq!(period_start(BudgetRenewal::Daily, NOW), 1_796_083_200);
        // Monday 2026-11-30
        assert_eq!(
            period_start(BudgetRenewal::Weekly, NOW),
            1_796_083_200 - DAY
        );
        assert_eq!(period_start(BudgetRenewal::Monthly, NOW), 1_796_083_200);
        // 2026-01-01
        assert_eq!(period_start(BudgetRenewal::Yearly, NOW), 1_767_225_600);
    }

    #[test]
    fn a_period_holds_until_the_next_begins() {
        for r in [
            BudgetRenewal::Daily,
            BudgetRenewal::Weekly,
            BudgetRenewal::Monthly,
            BudgetRenewal::Yearly,
        ] {
            let start = period_start(r, NOW);
            assert!(start <= NOW);
            assert_eq!(period_start(r, start), start, "{r:?}");
            assert!(period_start(r, start - 1) < start, "{r:?}");
        }
        // Month lengths: 2024-02-29 is in February, 2024-03-01 starts March.
        let feb29 = days_from_civil(2024, 2, 29) * DAY + 3600;
        assert_eq!(
            period_start(BudgetRenewal::Monthly, feb29),
            days_from_civil(2024, 2, 1) * DAY
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 3, 1)), (2024, 3, 1));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
