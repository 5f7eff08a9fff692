//! Rows read straight into models (`tenant-core/src/row.rs`), on both backends' readers: a model
//! decoded from the database equals what the API serves, and a row that does not fit the model
//! is an error naming the column, never a wrong value.

use demo_app::Customer;
use tenant_core::db::{DbError, TxMode};
use tenant_core::row::Model;
use tenant_core::value::FieldType;
use tenant_core::{Resource, Value};
use tests::demo::customer;
use tests::{TestApp, both_backends};
use uuid::Uuid;

fn decode_error<T>(result: Result<T, DbError>) -> (&'static str, &'static str, &'static str) {
    match result {
        Err(DbError::Decode(e)) => (e.column, e.expected, e.found),
        Err(other) => panic!("expected a decode error, got {other:?}"),
        Ok(_) => panic!("expected a decode error, got rows"),
    }
}

both_backends! {
    async fn model_read_from_the_database_matches_the_api(app: TestApp) {
        let a = app.signup("Acme").await;
        let served = customer(&app, &a.auth()).await;
        let id: Uuid = served["id"].as_str().unwrap().parse().unwrap();
        let mut tx = app.db.begin(TxMode::Read).await.unwrap();
        tx.set_tenant(a.company_id).await.unwrap();
        let params = [Value::Uuid(Some(a.company_id)), Value::Uuid(Some(id))];
        let decoded = tx.fetch_optional_with(Customer::DESC.sql.select_one, &params, &mut Model::<Customer>::new())
            .await
            .unwrap()
            .expect("the customer is there");
        tx.rollback().await.unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), served);
        assert_eq!(decoded.phone, None, "a NULL column reads as None");
    }

    async fn rows_that_do_not_fit_are_errors_naming_the_column(app: TestApp) {
        let mut tx = app.db.begin(TxMode::Read).await.unwrap();
        // A column of another type.
        let r = tx.fetch_all("SELECT 1", &[], &[FieldType::Text]).await;
        assert_eq!(decode_error(r), ("#0", "text", "a column of another type"));
        // Fewer columns than asked for.
        let r = tx.fetch_all("SELECT 1", &[], &[FieldType::I32, FieldType::I32]).await;
        assert_eq!(decode_error(r), ("#1", "32-bit integer", "no column"));
        // A model from a row that is not its table's: id is not a UUID.
        let r = tx.fetch_all_with("SELECT 'x', 'y'", &[], &mut Model::<Customer>::new()).await;
        let (column, expected, _) = decode_error(r);
        assert_eq!((column, expected), ("id", "UUID"));
        // NULL where the model has no Option.
        let sql = "SELECT NULL";
        let r = tx.fetch_all_with(sql, &[], &mut Model::<Customer>::new()).await;
        assert_eq!(decode_error(r), ("id", "UUID", "NULL"));
        tx.rollback().await.unwrap();
    }
}
