//! The JSON of the generated types (the model, `{Name}Input`, `{Name}Patch`), which goes through
//! `FieldValue` (`tenant-core/src/field_serde.rs`): every form serde gives a plain struct must
//! still hold, since apps (de)serialize these types themselves (typed operations, clients).

use chrono::NaiveDate;
use demo_app::models::{Invoice, InvoiceInput, InvoicePatch, InvoiceStatus};
use serde_json::json;
use uuid::Uuid;

#[test]
fn input_leaves_missing_optional_fields_none_and_requires_the_rest() {
    let customer = Uuid::now_v7();
    let input: InvoiceInput =
        serde_json::from_value(json!({"customer_id": customer, "number": "F-1", "amount_cents": 5})).unwrap();
    assert_eq!((input.customer_id, input.number.as_str(), input.amount_cents), (customer, "F-1", 5));
    assert_eq!(input.status, None, "a field with a default, left out, is None");
    assert_eq!(input.issued_on, None, "an Option field, left out, is None");

    let missing = serde_json::from_value::<InvoiceInput>(json!({"customer_id": customer, "number": "F-1"}));
    assert!(missing.unwrap_err().to_string().contains("missing field `amount_cents`"));
    let wrong = serde_json::from_value::<InvoiceInput>(
        json!({"customer_id": customer, "number": "F-1", "amount_cents": 5, "status": "lost"}),
    );
    assert!(wrong.unwrap_err().to_string().contains("unknown variant"));
}

#[test]
fn input_and_patch_round_trip_and_skip_what_is_unset() {
    let input = InvoiceInput {
        customer_id: Uuid::nil(),
        number: "F-2".into(),
        amount_cents: 7,
        status: Some(InvoiceStatus::Sent),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 30),
    };
    let value = serde_json::to_value(&input).unwrap();
    assert_eq!(value["status"], "sent");
    assert_eq!(value["issued_on"], "2026-11-30");
    let back: InvoiceInput = serde_json::from_value(value).unwrap();
    assert_eq!((back.status, back.issued_on), (input.status, input.issued_on));

    let patch = InvoicePatch { issued_on: Some(None), ..InvoicePatch::default() };
    assert_eq!(serde_json::to_value(&patch).unwrap(), json!({"issued_on": null}), "unset fields are left out");
    let patch: InvoicePatch = serde_json::from_value(json!({"issued_on": null, "amount_cents": 3})).unwrap();
    assert_eq!((patch.issued_on, patch.amount_cents, patch.number), (Some(None), Some(3), None));
}

#[test]
fn model_serializes_every_field_under_its_name() {
    let invoice = Invoice {
        id: Uuid::nil(),
        company_id: Uuid::nil(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        customer_id: Uuid::nil(),
        number: "F-3".into(),
        amount_cents: 9,
        status: InvoiceStatus::Paid,
        issued_on: None,
    };
    let value = serde_json::to_value(&invoice).unwrap();
    assert_eq!(value["status"], "paid");
    assert_eq!(value["issued_on"], serde_json::Value::Null, "a NULL field is null, not left out");
    assert_eq!(value["amount_cents"], 9);
    assert_eq!(value.as_object().unwrap().len(), 9);
}
