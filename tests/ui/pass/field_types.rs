// Every supported field type, plain and optional, with the options each one accepts.
use chrono::{DateTime, NaiveDate, Utc};
use tenant_core::{FieldType, Resource, TenantEnum, Value, tenant_resource};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, TenantEnum)]
pub enum Priority {
    Low,
    High,
    #[choice(rename = "asap")]
    RightNow,
}

#[tenant_resource]
pub struct Parent {
    pub label: String,
}

#[tenant_resource(table = "everything", singular = "thing", create = "admin", update = "admin")]
pub struct Everything {
    #[field(unique, filter, search, order, len = 1.., email, lookups = "in, gt, gte, lt, lte")]
    pub text: String,
    #[field(search, len = ..=10, lookups = "isnull in")]
    pub text_opt: Option<String>,
    #[field(filter, order, default, lookups = "in, gt")]
    pub flag: bool,
    #[field(filter, default = Some(false), lookups = "isnull")]
    pub flag_opt: Option<bool>,
    #[field(unique, order, range = -10..=10, default = 3)]
    pub small: i32,
    #[field(range = ..=0)]
    pub small_opt: Option<i32>,
    #[field(unique, range = 1..=9_000_000_000, default = 5_000_000_000i64)]
    pub big: i64,
    #[field(order, lookups = "gt, lt, isnull")]
    pub big_opt: Option<i64>,
    #[field(order, range = -0.5..=1.5, lookups = "in, lte")]
    pub real: f64,
    #[field(range = 0.0.., default = Some(0.25))]
    pub real_opt: Option<f64>,
    #[field(unique, references = Parent, lookups = "in, gt")]
    pub parent_id: Uuid,
    #[field(references = Everything, filter)]
    pub sibling_id: Option<Uuid>,
    #[field(order, lookups = "gte, lte")]
    pub day: NaiveDate,
    #[field(unique, lookups = "isnull, gte")]
    pub day_opt: Option<NaiveDate>,
    #[field(order, lookups = "gt")]
    pub at: DateTime<Utc>,
    #[field(lookups = "isnull, lte")]
    pub at_opt: Option<DateTime<Utc>>,
    #[field(unique, order, filter, default = Priority::High, lookups = "in, gte")]
    pub priority: Priority,
    #[field(filter, order, unique, lookups = "in, isnull, lt")]
    pub priority_opt: Option<Priority>,
    pub r#type: String,
}

fn main() {
    let desc = <Everything as Resource>::DESC;
    assert_eq!((desc.name, desc.singular, desc.table, desc.path), ("Everything", "thing", "everything", "/api/everything"));
    let ty = |name: &str| {
        let field = desc.field(name).unwrap();
        (field.ty, field.nullable)
    };
    assert_eq!(ty("text"), (FieldType::Text, false));
    assert_eq!(ty("text_opt"), (FieldType::Text, true));
    assert_eq!(ty("flag"), (FieldType::Bool, false));
    assert_eq!(ty("flag_opt"), (FieldType::Bool, true));
    assert_eq!(ty("small"), (FieldType::I32, false));
    assert_eq!(ty("big_opt"), (FieldType::I64, true));
    assert_eq!(ty("real_opt"), (FieldType::F64, true));
    assert_eq!(ty("parent_id"), (FieldType::Uuid, false));
    assert_eq!(ty("day_opt"), (FieldType::Date, true));
    assert_eq!(ty("at"), (FieldType::Timestamp, false));
    assert_eq!(ty("priority"), (FieldType::Choice(&["low", "high", "asap"]), false));
    assert_eq!(ty("priority_opt").1, true);
    assert_eq!(ty("type"), (FieldType::Text, false));
    assert_eq!(desc.fields.len(), 19);
    use tenant_core::{Lookup, Lookups};
    let lookups = |name: &str| desc.field(name).unwrap().lookups;
    assert_eq!(lookups("text"), Lookups::of(&[Lookup::In, Lookup::Gt, Lookup::Gte, Lookup::Lt, Lookup::Lte]));
    assert_eq!(lookups("text_opt"), Lookups::of(&[Lookup::In, Lookup::IsNull]));
    assert_eq!(lookups("priority_opt"), Lookups::of(&[Lookup::In, Lookup::Lt, Lookup::IsNull]));
    assert_eq!(lookups("small"), Lookups::NONE);

    let small = desc.field("small").unwrap();
    assert_eq!((small.min, small.max), (Some(-10.0), Some(10.0)));
    assert_eq!((small.default.unwrap())(), Value::I32(Some(3)));
    let big = desc.field("big").unwrap();
    assert_eq!(big.max, Some(9_000_000_000.0));
    assert_eq!((big.default.unwrap())(), Value::I64(Some(5_000_000_000)));
    assert_eq!((desc.field("real").unwrap().min, desc.field("real").unwrap().max), (Some(-0.5), Some(1.5)));
    assert_eq!((desc.field("real_opt").unwrap().default.unwrap())(), Value::F64(Some(0.25)));
    assert_eq!((desc.field("flag").unwrap().default.unwrap())(), Value::Bool(Some(false)));
    assert_eq!((desc.field("flag_opt").unwrap().default.unwrap())(), Value::Bool(Some(false)));
    assert_eq!((desc.field("priority").unwrap().default.unwrap())(), Value::Text(Some("high".into())));
    let parent = desc.field("parent_id").unwrap().references.unwrap();
    assert_eq!((parent.table(), parent.resource()), ("parents", "parent"));
    let sibling = desc.field("sibling_id").unwrap().references.unwrap();
    assert_eq!((sibling.table(), sibling.resource()), ("everything", "thing"));
    assert!(desc.sql.insert.ends_with("$20, $21, $22, $23)"));
    assert!(desc.sql.select_one.contains(", type FROM everything "));

    // TenantEnum: names, parsing, JSON.
    assert_eq!(Priority::RightNow.as_str(), "asap");
    assert_eq!("high".parse::<Priority>().unwrap(), Priority::High);
    let err = "urgent".parse::<Priority>().unwrap_err().to_string();
    assert_eq!(err, "unknown variant `urgent`, expected one of `low`, `high`, `asap`");
    assert_eq!(Priority::Low.to_string(), "low");
    assert_eq!(serde_json::to_value(Priority::RightNow).unwrap(), "asap");
    assert_eq!(serde_json::from_str::<Priority>("\"asap\"").unwrap(), Priority::RightNow);
    assert!(serde_json::from_str::<Priority>("\"RightNow\"").is_err());
    use tenant_core::FieldValue;
    assert_eq!(Priority::High.into_value(), Value::Text(Some("high".into())));
    assert_eq!(Priority::from_value(Value::Text(Some("low".into()))), Some(Priority::Low));
    assert_eq!(Priority::from_value(Value::Text(Some("nope".into()))), None);
    assert_eq!(<Option<Priority>>::from_value(Value::Text(None)), Some(None));

    // A resource without options gets every default.
    let parent = <Parent as Resource>::DESC;
    assert_eq!((parent.table, parent.path, parent.singular), ("parents", "/api/parents", "parent"));
    let patch = ParentPatch::default();
    assert!(patch.label.is_none());
}
