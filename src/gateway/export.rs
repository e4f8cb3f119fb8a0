//! Ledger exports for bookkeeping (`GET /api/v1/accounts/{address}/transactions.csv`, `lnaddr
//! account export`): one row per ledger entry, oldest first, with what a bookkeeper needs: time,
//! direction, amount, fee, status, payment hash, and for incoming payments the LUD-12 comment,
//! the LUD-18 payer data and the NIP-57 zap sender. CSV is written by the `csv` crate.

use serde::Serialize;

use super::{Error, Gateway};
use crate::store::webhooks::zap_sender;
use crate::store::{TxKind, TxStatus};

/// One exported ledger entry. Amounts in millisatoshis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    /// RFC 3339, UTC.
    pub time: String,
    /// Unix seconds.
    pub timestamp: u64,
    /// `in` or `out`.
    pub direction: &'static str,
    pub amount_msat: u64,
    pub fee_msat: u64,
    /// `pending`, `settled` or `failed`.
    pub status: &'static str,
    pub payment_hash: String,
    pub comment: Option<String>,
    pub tag: Option<String>,
    pub payer_data: Option<String>,
    pub zap_sender: Option<String>,
}

impl Gateway {
    /// The account's ledger with `from <= time < to` (Unix seconds), oldest first.
    pub async fn export(
        &self,
        address: &crate::types::LightningAddress,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<Vec<ExportRow>, Error> {
        let account = self.account(address).await?;
        let txs = self.store.transactions(&account.id, usize::MAX).await?;
        let mut rows = Vec::with_capacity(txs.len());
        for tx in txs.into_iter().rev() {
            if from.is_some_and(|f| tx.created_at < f) || to.is_some_and(|t| tx.created_at >= t) {
                continue;
            }
            let (payer_data, zap) = match tx.kind {
                TxKind::Credit => match self.store.invoice(&tx.payment_hash).await? {
                    Some(inv) => (inv.payer_data.clone(), zap_sender(&inv)),
                    None => (None, None),
                },
                TxKind::Debit => (None, None),
            };
            rows.push(ExportRow {
                time: rfc3339(tx.created_at),
                timestamp: tx.created_at,
                direction: match tx.kind {
                    TxKind::Credit => "in",
                    TxKind::Debit => "out",
                },
                amount_msat: tx.amount_msat.msat(),
                fee_msat: tx.fee_msat.msat(),
                status: match tx.status {
                    TxStatus::Pending => "pending",
                    TxStatus::Settled => "settled",
                    TxStatus::Failed => "failed",
                },
                payment_hash: tx.payment_hash.to_hex(),
                comment: tx.comment,
                tag: tx.tag,
                payer_data,
                zap_sender: zap,
            });
        }
        Ok(rows)
    }
}

/// The rows as CSV with a header row.
pub fn to_csv(rows: &[ExportRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        writer.write_record([
            "time",
            "timestamp",
            "direction",
            "amount_msat",
            "fee_msat",
            "status",
            "payment_hash",
            "comment",
            "tag",
            "payer_data",
            "zap_sender",
        ])?;
    }
    for row in rows {
        writer.serialize(row)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (year, month, day) = crate::types::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let row = ExportRow {
            time: rfc3339(0),
            timestamp: 0,
            direction: "in",
            amount_msat: 1000,
            fee_msat: 0,
            status: "settled",
            payment_hash: "00".repeat(32),
            comment: Some("thanks, \"bob\"\nsecond line".into()),
            tag: None,
            payer_data: Some(r#"{"name":"Bob, Jr."}"#.into()),
            zap_sender: None,
        };
        let bytes = to_csv(std::slice::from_ref(&row)).expect("csv");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().expect("headers").clone();
        assert_eq!(&headers[7], "comment");
        let records: Vec<_> = reader.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(records.len(), 1);
        assert_eq!(&records[0][7], "thanks, \"bob\"\nsecond line");
        assert_eq!(&records[0][9], r#"{"name":"Bob, Jr."}"#);
        let empty = to_csv(&[]).expect("csv");
        assert!(empty.starts_with(b"time,timestamp,direction"));
    }
}
