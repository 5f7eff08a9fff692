//! Generated names longer than PostgreSQL's 63-byte identifiers (`NAMEDATALEN - 1`): PostgreSQL
//! truncates them, so every name the framework compares with the catalog or an error (the unique
//! constraint behind a 409, the start-up drift check's constraints and foreign keys) must be
//! truncated the same way, on both backends.

use serde_json::json;
use tests::*;
use uuid::Uuid;

mod models {
    use tenant_core::tenant_resource;
    use uuid::Uuid;

    #[tenant_resource(table = "li_warehouse_inventory_reconciliation_batches")]
    pub struct Batch {
        #[field(unique)]
        pub external_reference_identifier_code: String,
    }

    #[tenant_resource(table = "li_warehouse_inventory_reconciliation_lines")]
    pub struct Line {
        #[field(references = Batch)]
        pub reconciliation_batch_identifier_uuid: Uuid,
        #[field(unique)]
        pub supplier_side_line_reference_number: Option<String>,
    }
}

fn register(app: tenant_core::App) -> tenant_core::App {
    app.resource::<models::Batch>().resource::<models::Line>()
}

tenant_core::both_backends! {
    register = register;

    async fn long_names_keep_their_409_and_their_references(app: TestApp) {
        let a = app.signup("Acme").await;
        let batch = json!({"external_reference_identifier_code": "B-1"});
        let created = app.create("/api/li_warehouse_inventory_reconciliation_batches", &a.auth(), batch.clone()).await;
        let r = app.post("/api/li_warehouse_inventory_reconciliation_batches", &a.auth(), batch).await;
        assert_eq!(r.status, 409, "{}", r.text);
        r.assert_field_error("external_reference_identifier_code");

        let line = json!({"reconciliation_batch_identifier_uuid": created["id"], "supplier_side_line_reference_number": "L-1"});
        app.create("/api/li_warehouse_inventory_reconciliation_lines", &a.auth(), line.clone()).await;
        let r = app.post("/api/li_warehouse_inventory_reconciliation_lines", &a.auth(), line).await;
        assert_eq!(r.status, 409, "{}", r.text);
        r.assert_field_error("supplier_side_line_reference_number");
        let missing = json!({"reconciliation_batch_identifier_uuid": Uuid::now_v7()});
        app.post("/api/li_warehouse_inventory_reconciliation_lines", &a.auth(), missing).await
            .assert_field_error("reconciliation_batch_identifier_uuid");
    }
}
