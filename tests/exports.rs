//! The ledger exports on a gateway on real sockets (`transactions.csv` and `.json`): the CSV
//! parses with a CSV reader and matches the ledger (comments and payer data with commas and
//! quotes), `from`/`to` select by time, JSON lists the same entries, and bad input (a bad date,
//! an unknown account) is refused.

mod support;

use reqwest::Method;
use support::gateway::TestGateway;

#[tokio::test]
async fn the_csv_export_parses_and_matches_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("books@localhost").await;
    let payer = r#"{"name":"Bob, \"the\" builder"}"#;
    let encoded: String = url::form_urlencoded::byte_serialize(payer.as_bytes()).collect();
    let comment: String =
        url::form_urlencoded::byte_serialize("line one, \"quoted\"\nline two".as_bytes()).collect();
    let h1 = gw
        .pay_with("books", 1_000, &format!("&comment={comment}"))
        .await;
    let h2 = gw
        .pay_with("books", 2_500, &format!("&payerdata={encoded}"))
        .await;
    let h3 = gw.pay_with("books+invoice42", 3_000, "").await;
    gw.wait_balance("books@localhost", 6_500).await;

    let resp = gw
        .http
        .get(format!(
            "{}/api/v1/accounts/books@localhost/transactions.csv",
            gw.admin
        ))
        .bearer_auth(support::gateway::TOKEN)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let text = resp.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_string)
        .collect();
    for column in [
        "time",
        "direction",
        "amount_msat",
        "fee_msat",
        "status",
        "payment_hash",
        "comment",
        "payer_data",
        "zap_sender",
    ] {
        assert!(
            headers.iter().any(|h| h == column),
            "{column} in {headers:?}"
        );
    }
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    let ledger = gw.transactions("books@localhost").await;
    assert_eq!(rows.len(), ledger.len());
    assert_eq!(rows.len(), 3);
    for tx in &ledger {
        let hash = tx["payment_hash"].as_str().expect("hash");
        let row = rows
            .iter()
            .find(|r| &r[col("payment_hash")] == hash)
            .expect("every ledger entry has a row");
        assert_eq!(&row[col("direction")], "in");
        assert_eq!(row[col("amount_msat")], tx["amount_msat"].to_string());
        assert_eq!(row[col("fee_msat")], tx["fee_msat"].to_string());
        assert_eq!(&row[col("status")], tx["status"].as_str().expect("status"));
        assert_eq!(
            &row[col("comment")],
            tx["comment"].as_str().unwrap_or_default()
        );
        assert_eq!(row[col("timestamp")], tx["created_at"].to_string());
        assert!(row[col("time")].ends_with('Z'));
    }
    let by_hash = |h: &str| {
        rows.iter()
            .find(|r| &r[col("payment_hash")] == h)
            .expect("row")
            .clone()
    };
    assert_eq!(
        &by_hash(&h1)[col("comment")],
        "line one, \"quoted\"\nline two"
    );
    assert_eq!(&by_hash(&h2)[col("payer_data")], payer);
    assert_eq!(&by_hash(&h3)[col("tag")], "invoice42");

    // The window: from is inclusive, to exclusive.
    let first = ledger
        .iter()
        .filter_map(|t| t["created_at"].as_u64())
        .min()
        .expect("time");
    let count = |query: String| {
        let http = gw.http.clone();
        let url = format!(
            "{}/api/v1/accounts/books@localhost/transactions.csv{query}",
            gw.admin
        );
        async move {
            let text = http
                .get(url)
                .bearer_auth(support::gateway::TOKEN)
                .send()
                .await
                .expect("csv")
                .text()
                .await
                .expect("text");
            let mut r = csv::Reader::from_reader(text.as_bytes());
            assert!(r.headers().expect("header").len() >= 9);
            r.records().count()
        }
    };
    assert_eq!(count(format!("?from={first}")).await, 3);
    assert_eq!(count(format!("?to={first}")).await, 0);
    assert_eq!(count(format!("?from={}", first + 100_000)).await, 0);

    // The JSON export has the same rows.
    let (status, json_rows) = gw
        .admin(
            Method::GET,
            "/api/v1/accounts/books@localhost/transactions.json",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json_rows.as_array().expect("array").len(), 3);
    assert_eq!(json_rows[0]["direction"], "in");

    // Bad input changes nothing and says why.
    let (status, _) = gw
        .admin(
            Method::GET,
            "/api/v1/accounts/books@localhost/transactions.csv?from=yesterday",
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = gw
        .admin(
            Method::GET,
            "/api/v1/accounts/nobody@localhost/transactions.csv",
            None,
        )
        .await;
    assert_eq!(status, 404);
}
