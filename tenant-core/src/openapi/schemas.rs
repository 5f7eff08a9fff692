//! The JSON Schemas of the document (OpenAPI 3.1, so JSON Schema 2020-12): each resource's
//! object, create body, partial-update body and page, and API.md's error bodies, all from the
//! same [`ResourceDesc`] the handlers validate with.

use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::{Ref, RefOr};

use crate::query::MAX_PAGE_SIZE;
use crate::resource::{Field, ResourceDesc};
use crate::value::FieldType;

/// The component name of API.md's `{"detail": "..."}` body.
pub const DETAIL: &str = "Detail";
/// The component name of a field-error body: `{"field": ["message", …], "non_field_errors": […]}`.
pub const VALIDATION_ERROR: &str = "ValidationError";

/// `#/components/schemas/{name}`.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// The type of a value, nullable 3.1-style (`"type": ["string", "null"]`).
fn schema_type(ty: Type, nullable: bool) -> SchemaType {
    if nullable { SchemaType::Array(vec![ty, Type::Null]) } else { SchemaType::Type(ty) }
}

/// A value of `ty`: its JSON type, format and, for choices, its enum.
pub fn value_schema(ty: FieldType, nullable: bool) -> ObjectBuilder {
    let (json, format) = match ty {
        FieldType::Text | FieldType::Choice(_) => (Type::String, None),
        FieldType::Bool => (Type::Boolean, None),
        FieldType::I32 => (Type::Integer, Some(KnownFormat::Int32)),
        FieldType::I64 => (Type::Integer, Some(KnownFormat::Int64)),
        FieldType::F64 => (Type::Number, Some(KnownFormat::Double)),
        FieldType::Uuid => (Type::String, Some(KnownFormat::Uuid)),
        FieldType::Date => (Type::String, Some(KnownFormat::Date)),
        FieldType::Timestamp => (Type::String, Some(KnownFormat::DateTime)),
    };
    let mut schema =
        ObjectBuilder::new().schema_type(schema_type(json, nullable)).format(format.map(SchemaFormat::KnownFormat));
    if let FieldType::Choice(choices) = ty {
        let mut values: Vec<serde_json::Value> = choices.iter().map(|c| serde_json::Value::from(*c)).collect();
        if nullable {
            values.push(serde_json::Value::Null);
        }
        schema = schema.enum_values(Some(values));
    }
    schema
}

/// A declared field: its value, and the rules `validate.rs` applies (bounds, email).
pub fn field_schema(field: &Field) -> ObjectBuilder {
    let mut schema = value_schema(field.ty, field.nullable)
        .min_length(field.min_len)
        .max_length(field.max_len)
        .minimum(field.min)
        .maximum(field.max);
    if field.email {
        schema = schema.format(Some(SchemaFormat::Custom("email".into())));
    }
    schema
}

/// The object as every route returns it: the system fields (read-only), the declared fields
/// but the write-only ones (`readOnly` when read-only), then the computed ones (read-only).
/// Every key is always present.
pub fn object_schema(desc: &ResourceDesc) -> Schema {
    let read_only = |schema: ObjectBuilder| schema.read_only(Some(true));
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("id", read_only(value_schema(FieldType::Uuid, false)))
        .property("company_id", read_only(value_schema(FieldType::Uuid, false)))
        .property("created_at", read_only(value_schema(FieldType::Timestamp, false)))
        .property("updated_at", read_only(value_schema(FieldType::Timestamp, false)));
    let mut required = vec!["id", "company_id", "created_at", "updated_at"];
    for field in desc.fields.iter().filter(|f| !f.write_only) {
        let schema = field_schema(field);
        object = object.property(field.name, if field.read_only { read_only(schema) } else { schema });
        required.push(field.name);
    }
    for computed in desc.computed {
        let schema = match (computed.ty)() {
            Some((ty, nullable)) => value_schema(ty, nullable),
            None => ObjectBuilder::new().schema_type(SchemaType::AnyValue),
        };
        object = object.property(computed.name, read_only(schema));
        required.push(computed.name);
    }
    for name in required {
        object = object.required(name);
    }
    object.into()
}

/// The body of a create (`POST`) or full update (`PUT`): every field a request may set, required
/// when the field has no default and is not an `Option` (the write-only ones `writeOnly`).
/// `without` leaves out a reference a nested route takes from its path.
pub fn input_schema(desc: &ResourceDesc, without: Option<&str>) -> Schema {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for field in desc.fields.iter().filter(|f| !f.read_only && Some(f.name) != without) {
        let schema = field_schema(field).write_only(field.write_only.then_some(true));
        object = object.property(field.name, schema);
        if field.required {
            object = object.required(field.name);
        }
    }
    object.into()
}

/// The body of a partial update (`PATCH`): the same fields, none required.
pub fn patch_schema(desc: &ResourceDesc) -> Schema {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for field in desc.fields.iter().filter(|f| !f.read_only) {
        object = object.property(field.name, field_schema(field).write_only(field.write_only.then_some(true)));
    }
    object.into()
}

/// Django REST Framework's `PageNumberPagination` page of `item`.
pub fn page_schema(item: &str) -> Schema {
    let link = || {
        ObjectBuilder::new()
            .schema_type(schema_type(Type::String, true))
            .format(Some(SchemaFormat::Custom("uri".into())))
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("count", ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
        .property("next", link())
        .property("previous", link())
        .property("results", ArrayBuilder::new().items(reference(item)).max_items(Some(MAX_PAGE_SIZE as usize)))
        .required("count")
        .required("next")
        .required("previous")
        .required("results")
        .into()
}

/// `{"detail": "..."}`.
pub fn detail_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("detail", ObjectBuilder::new().schema_type(Type::String))
        .required("detail")
        .into()
}

/// `{"field": ["message", …], …}`: each key a field (or `non_field_errors`, or a list
/// parameter), each value its messages.
pub fn validation_error_schema() -> Schema {
    let messages = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)).min_items(Some(1));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(messages.into()))))
        .into()
}

/// A 400 or 409 body: field errors, or a detail (malformed JSON, a delete blocked by dependants).
pub fn error_schema() -> Schema {
    AnyOfBuilder::new().item(reference(VALIDATION_ERROR)).item(reference(DETAIL)).into()
}

/// Any JSON value (a custom action's body or answer, which the app writes).
pub fn any_schema() -> Schema {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue).into()
}
