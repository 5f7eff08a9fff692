//! Reading the account tables' rows and their constraint violations.

use crate::db::DbError;
use crate::error::ApiError;
use crate::role::Role;
use crate::value::{FieldValue, Value, from_value};

/// Reads the next column of a row as `T` (a mismatch is a schema bug: 500, logged).
pub(crate) fn column<T: FieldValue>(row: &mut impl Iterator<Item = Value>, name: &'static str) -> Result<T, ApiError> {
    Ok(from_value::<T>(name, row.next()).map_err(DbError::from)?)
}

/// Reads the next column of a row as a [`Role`].
pub(crate) fn role_column(row: &mut impl Iterator<Item = Value>) -> Result<Role, ApiError> {
    let text: String = column(row, "role")?;
    Role::parse(&text).ok_or_else(|| ApiError::internal(format!("unknown role {text:?} in memberships")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_match_by_constraint_or_columns() {
        let pg = DbError::Unique { constraint: Some("users_email_key".into()), columns: vec![] };
        let lite = DbError::Unique { constraint: None, columns: vec!["email".into()] };
        let other = DbError::Unique { constraint: Some("memberships_pkey".into()), columns: vec![] };
        assert!(pg.violates_unique("users_email_key", &["email"]));
        assert!(lite.violates_unique("users_email_key", &["email"]));
        assert!(!other.violates_unique("users_email_key", &["email"]));
        assert!(!DbError::ForeignKey.violates_unique("users_email_key", &["email"]));
    }
}
