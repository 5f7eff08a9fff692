use serde::{Deserialize, Serialize};
use tenant_core::{FieldType, FieldValue, Value, tenant_resource};

/// A field type of the app's own: stored as text, with no order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Colour(String);

impl FieldValue for Colour {
    const TYPE: FieldType = FieldType::Text;
    fn into_value(self) -> Value {
        Value::Text(Some(self.0))
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Text(Some(text)) => Some(Colour(text)),
            _ => None,
        }
    }
}

#[tenant_resource]
pub struct Paint {
    #[field(lookups = "in, gte")]
    pub colour: Colour,
}

fn main() {}
