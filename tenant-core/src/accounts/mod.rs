//! The account endpoints every app gets: `/api/me`, `/api/companies`, `/api/members` and
//! `/api/invitations`.
//!
//! They work on the core tables (users, companies, memberships), not on tenant resources, so
//! they write their own SQL; like everything else it uses `$n` placeholders only and runs on
//! both backends. Request bodies are validated here field by field, collecting every error into
//! one 400, with Django REST Framework's messages. The auth endpoints (`crate::auth::handlers`)
//! reuse these helpers.

mod companies;
mod invitations;
mod me;
mod members;

use axum::Router;
use axum::routing::{delete, get, patch, post};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::app::{AppState, SlashRoutes};
use crate::body::JsonObject;
use crate::db::DbError;
use crate::error::ApiError;
use crate::role::Role;
use crate::validate::FieldErrors;
pub(crate) use crate::validate::now;
use crate::validate::{NUL_NOT_ALLOWED, is_email};
use crate::value::{FieldType, FieldValue, Value, from_value};

pub(crate) use companies::{CompanyRow, add_membership, create_company};

/// Routes of `/api/me`, `/api/companies`, `/api/members[/…]` and `/api/invitations[/…]`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route_with_slash("/api/me", get(me::get_me).patch(me::patch_me))
        .route_with_slash("/api/companies", get(companies::list).post(companies::create))
        .route_with_slash("/api/members", get(members::list).post(invitations::create))
        .route_with_slash("/api/members/invitations", get(invitations::list_pending))
        .route_with_slash("/api/members/invitations/{id}", delete(invitations::revoke))
        .route_with_slash("/api/members/{user_id}", patch(members::update).delete(members::remove))
        .route_with_slash("/api/invitations", get(invitations::list_mine))
        .route_with_slash("/api/invitations/{id}/accept", post(invitations::accept))
        .route_with_slash("/api/invitations/{id}/decline", post(invitations::decline))
        // The membership check of a write follows its whole body (see `body_first.rs`).
        .route_layer(axum::middleware::from_fn(crate::body_first::read_body_first))
}

/// Longest email address accepted (as Django's `EmailField`).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest company name accepted.
pub const MAX_COMPANY_NAME_LEN: usize = 200;

pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const NOT_NULL: &str = "This field may not be null.";
pub(crate) const NOT_BLANK: &str = "This field may not be blank.";
pub(crate) const NOT_A_STRING: &str = "Not a valid string.";
pub(crate) const INVALID_EMAIL: &str = "Enter a valid email address.";
pub(crate) const INVALID_UUID: &str = "Must be a valid UUID.";
pub(crate) const CONTROL_CHARACTERS: &str = "Control characters (such as line breaks) are not allowed.";

/// Reads the next column of a row as `T` (a mismatch is a schema bug: 500, logged).
pub(crate) fn column<T: FieldValue>(row: &mut impl Iterator<Item = Value>, name: &'static str) -> Result<T, ApiError> {
    Ok(from_value::<T>(name, row.next()).map_err(DbError::from)?)
}

/// Reads the next column of a row as a [`Role`].
pub(crate) fn role_column(row: &mut impl Iterator<Item = Value>) -> Result<Role, ApiError> {
    let text: String = column(row, "role")?;
    Role::parse(&text).ok_or_else(|| ApiError::internal(format!("unknown role {text:?} in memberships")))
}

/// Whether `err` violates the unique index `constraint` (PostgreSQL names it) on `column`
/// (SQLite lists the columns instead).
pub(crate) fn is_unique_violation(err: &DbError, constraint: &str, columns: &[&str]) -> bool {
    match err {
        DbError::Unique { constraint: Some(name), .. } => name == constraint,
        DbError::Unique { constraint: None, columns: cols } => {
            cols.len() == columns.len() && cols.iter().zip(columns).all(|(a, b)| a == b)
        }
        _ => false,
    }
}

/// API.md: email addresses are unique "case-insensitive, Unicode-normalised; format characters
/// such as zero-width spaces refused".
pub(crate) const EMAIL_FORMAT_CHARACTERS: &str =
    "Enter a valid email address: invisible characters (such as zero-width spaces) are not allowed.";

/// The form in which addresses are stored and compared: trimmed, lower-cased, in Unicode
/// Normalization Form C, and with an internationalised domain in IDNA's one Unicode form, so
/// `é` typed composed or decomposed, or a domain in any case or mapping, is one address (as the
/// unique index on `users.email` and invitations see it). Used as is for logins, which validate
/// nothing.
pub fn canonical_email(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let email: String = input.trim().to_lowercase().nfc().collect();
    match email.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() || domain.contains("xn--") => {
            match crate::validate::email_domain_ascii(domain) {
                Some(ascii) => format!("{local}@{}", idna::domain_to_unicode(&ascii).0),
                None => email,
            }
        }
        _ => email,
    }
}

/// Whether `s` holds a character that shows as nothing: Unicode's general category Format (Cf:
/// zero-width spaces and joiners, bidirectional controls, soft hyphens…) or its
/// Default_Ignorable_Code_Point property (variation selectors, the combining grapheme joiner,
/// Hangul fillers…). Two addresses that differ only by them would look identical to a person.
fn has_invisible_characters(s: &str) -> bool {
    use icu_properties::CodePointSetData;
    use icu_properties::props::DefaultIgnorableCodePoint;
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    s.chars().any(|c| c.general_category() == GeneralCategory::Format || ignorable.contains(c))
}

/// An address as sign-up and invitations accept it: without invisible characters, then
/// [`canonical_email`], then checked with the rule of every `email` field ([`is_email`]: a bare
/// address, where the mail really goes). The error is the 400 message.
pub fn normalize_email(input: &str) -> Result<String, &'static str> {
    if has_invisible_characters(input) {
        return Err(EMAIL_FORMAT_CHARACTERS);
    }
    let email = canonical_email(input);
    if is_email(&email) { Ok(email) } else { Err(INVALID_EMAIL) }
}

/// Addresses stored before [`canonical_email`] existed (earlier versions stored them trimmed and
/// lower-cased only): the rows that may differ from their canonical form, those with a non-ASCII
/// character or an IDNA A-label.
const MAYBE_NOT_CANONICAL_POSTGRES: &str =
    "SELECT id, email FROM users WHERE email !~ '^[ -~]*$' OR email LIKE '%xn--%' ORDER BY created_at, id";
const MAYBE_NOT_CANONICAL_SQLITE: &str =
    "SELECT id, email FROM users WHERE email GLOB '*[^ -~]*' OR email LIKE '%xn--%' ORDER BY created_at, id";
const EMAIL_TAKEN: &str = "SELECT id FROM users WHERE email = $1";
const SET_EMAIL: &str = "UPDATE users SET email = $2 WHERE id = $1";

/// Rewrites stored addresses into their canonical form, so that their users still log in with
/// what they always typed and nobody can register the same address again in another form. Run
/// by `App::migrate` (idempotent; it reads only the rows that can differ). An address whose
/// canonical form is already another user's is left as it is and reported: two accounts cannot
/// be merged automatically.
pub(crate) async fn canonicalize_stored_emails(db: &crate::db::Db) -> Result<(), DbError> {
    let sql = match db.dialect() {
        crate::db::Dialect::Postgres => MAYBE_NOT_CANONICAL_POSTGRES,
        crate::db::Dialect::Sqlite => MAYBE_NOT_CANONICAL_SQLITE,
    };
    let mut tx = db.begin(crate::db::TxMode::Write).await?;
    let rows = tx.fetch_all(sql, &[], &[FieldType::Uuid, FieldType::Text]).await?;
    for row in rows {
        let mut row = row.into_iter();
        let id: Uuid = from_value("id", row.next())?;
        let email: String = from_value("email", row.next())?;
        let canonical = canonical_email(&email);
        if canonical == email {
            continue;
        }
        if tx.fetch_optional(EMAIL_TAKEN, &[Value::Text(Some(canonical.clone()))], &[FieldType::Uuid]).await?.is_some()
        {
            crate::setting::warn_loudly(
                false,
                &format!(
                    "user {id}: the address {email:?} is {canonical:?} in canonical form, which another user \
                     has; left as it is (merge or rename one of the accounts)"
                ),
            );
            continue;
        }
        tx.execute(SET_EMAIL, &[Value::Uuid(Some(id)), Value::Text(Some(canonical))]).await?;
    }
    tx.commit().await
}

/// A JSON body being validated: each accessor checks one field, records its errors, and
/// returns the cleaned value if it is valid. [`Form::finish`] answers 400 with every error.
/// Fields the form does not ask for are ignored, as API.md requires.
pub(crate) struct Form {
    map: Map<String, Json>,
    errors: FieldErrors,
}

impl Form {
    pub(crate) fn new(body: JsonObject) -> Form {
        Form { map: body.0, errors: FieldErrors::new() }
    }

    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_string()).or_default().push(message.into());
    }

    /// The raw string of a field: absent (an error if `required`), null, or not a string → `None`.
    fn raw_string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.map.get(name) {
            None => {
                if required {
                    self.error(name, REQUIRED);
                }
                None
            }
            Some(Json::Null) => {
                self.error(name, NOT_NULL);
                None
            }
            // Every string of every form, passwords included, as DRF's CharField.
            Some(Json::String(s)) if s.contains('\0') => {
                self.error(name, NUL_NOT_ALLOWED);
                None
            }
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(name, NOT_A_STRING);
                None
            }
        }
    }

    /// A required, trimmed, non-blank, single-line string of at most `max` characters (a name:
    /// shown in lists and mail subjects and bodies, where a line break or another control
    /// character would let it write lines of its own).
    pub(crate) fn text(&mut self, name: &str, max: usize) -> Option<String> {
        let value = self.raw_string(name, true)?;
        let value = value.trim();
        if value.is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        if value.chars().any(char::is_control) {
            self.error(name, CONTROL_CHARACTERS);
            return None;
        }
        if value.chars().count() > max {
            self.error(name, format!("Ensure this field has no more than {max} characters."));
            return None;
        }
        Some(value.to_string())
    }

    /// A required, non-blank string taken as is (a password, a token): never trimmed.
    pub(crate) fn secret(&mut self, name: &str) -> Option<String> {
        let value = self.raw_string(name, true)?;
        if value.is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        Some(value)
    }

    /// A required email address, trimmed and lower-cased.
    pub(crate) fn email(&mut self, name: &str) -> Option<String> {
        let value = self.raw_string(name, true)?;
        if value.trim().is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        if value.trim().chars().count() > MAX_EMAIL_LEN {
            self.error(name, format!("Ensure this field has no more than {MAX_EMAIL_LEN} characters."));
            return None;
        }
        match normalize_email(&value) {
            Ok(email) => Some(email),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// A role, `admin` or `staff`. Absent and not `required` → `None` without an error.
    pub(crate) fn role(&mut self, name: &str, required: bool) -> Option<Role> {
        let value = match self.map.get(name) {
            Some(Json::Number(n)) => n.to_string(),
            Some(Json::Bool(b)) => b.to_string(),
            _ => self.raw_string(name, required)?,
        };
        let role = Role::parse(&value);
        if role.is_none() {
            self.error(name, format!("\"{value}\" is not a valid choice."));
        }
        role
    }

    /// A nullable UUID: absent → `None`; `null` → `Some(None)`; invalid → an error and `None`.
    pub(crate) fn nullable_uuid(&mut self, name: &str) -> Option<Option<Uuid>> {
        match self.map.get(name)? {
            Json::Null => Some(None),
            Json::String(s) => match Uuid::parse_str(s.trim()) {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    self.error(name, INVALID_UUID);
                    None
                }
            },
            _ => {
                self.error(name, INVALID_UUID);
                None
            }
        }
    }

    /// `Ok` if every field was valid, else the 400 listing every error.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// Unwraps a value a [`Form`] accessor returned after [`Form::finish`] succeeded.
pub(crate) fn cleaned<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("validated field missing after Form::finish"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(value: Json) -> Form {
        let Json::Object(map) = value else { panic!("not an object") };
        Form::new(JsonObject(map))
    }

    fn errors(form: Form) -> FieldErrors {
        match form.finish() {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(normalize_email("  Alice@Example.COM ").as_deref(), Ok("alice@example.com"));
        assert_eq!(normalize_email("a.b+tag@sub.example.co").as_deref(), Ok("a.b+tag@sub.example.co"));
        for bad in
            ["", "   ", "alice", "alice@", "@example.com", "alice@example", "a@b@example.com", "al ice@example.com"]
        {
            assert_eq!(normalize_email(bad), Err(INVALID_EMAIL), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(normalize_email(&long), Err(INVALID_EMAIL));
    }

    #[test]
    fn emails_are_compared_in_nfc_and_refuse_format_characters() {
        // "é" composed (U+00E9) and decomposed (e + U+0301) are one address.
        let composed = normalize_email("Jos\u{e9}@example.com").unwrap();
        let decomposed = normalize_email("Jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed, "jos\u{e9}@example.com");
        assert_eq!(canonical_email(" JOSE\u{301}@Example.com "), composed);
        // An internationalised domain has one form, however it was typed.
        assert_eq!(canonical_email("a@CAFE\u{301}.Example"), "a@caf\u{e9}.example");
        assert_eq!(normalize_email("a@xn--caf-dma.example").unwrap(), "a@caf\u{e9}.example");
        // Zero-width space, zero-width joiner, soft hyphen, a bidirectional override, BOM (Cf);
        // the combining grapheme joiner, variation selectors, Hangul fillers (Default_Ignorable).
        for c in [
            '\u{200b}',
            '\u{200d}',
            '\u{ad}',
            '\u{202e}',
            '\u{feff}',
            '\u{34f}',
            '\u{fe0f}',
            '\u{e0100}',
            '\u{115f}',
            '\u{1160}',
            '\u{3164}',
            '\u{ffa0}',
        ] {
            let input = format!("al{c}ice@example.com");
            assert_eq!(normalize_email(&input), Err(EMAIL_FORMAT_CHARACTERS), "{input:?}");
        }
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut f = form(json!({"email": "nope", "password": "", "company_name": "   "}));
        assert_eq!(f.email("email"), None);
        assert_eq!(f.secret("password"), None);
        assert_eq!(f.text("company_name", 200), None);
        let errors = errors(f);
        assert_eq!(errors["email"], vec![INVALID_EMAIL]);
        assert_eq!(errors["password"], vec![NOT_BLANK]);
        assert_eq!(errors["company_name"], vec![NOT_BLANK]);
    }

    #[test]
    fn required_null_and_type_errors() {
        let mut f = form(json!({"b": null, "c": 3, "d": ["x"]}));
        assert_eq!(f.text("a", 10), None);
        assert_eq!(f.text("b", 10), None);
        assert_eq!(f.text("c", 10), None);
        assert_eq!(f.secret("d"), None);
        let errors = errors(f);
        assert_eq!(errors["a"], vec![REQUIRED]);
        assert_eq!(errors["b"], vec![NOT_NULL]);
        assert_eq!(errors["c"], vec![NOT_A_STRING]);
        assert_eq!(errors["d"], vec![NOT_A_STRING]);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut f = form(json!({"name": "  Acme  ", "long": "x".repeat(201), "ok": "é".repeat(200)}));
        assert_eq!(f.text("name", 200).as_deref(), Some("Acme"));
        assert_eq!(f.text("ok", 200).map(|s| s.chars().count()), Some(200));
        assert_eq!(f.text("long", 200), None);
        assert_eq!(errors(f)["long"], vec!["Ensure this field has no more than 200 characters."]);
    }

    #[test]
    fn names_are_single_lines() {
        let mut f = form(json!({"a": "Acme\nToken: x", "b": "Tab\there", "c": "Bell\u{7}", "ok": "Café Zoë & Co"}));
        assert_eq!(f.text("a", 200), None);
        assert_eq!(f.text("b", 200), None);
        assert_eq!(f.text("c", 200), None);
        assert_eq!(f.text("ok", 200).as_deref(), Some("Café Zoë & Co"));
        let errors = errors(f);
        for field in ["a", "b", "c"] {
            assert_eq!(errors[field], vec![CONTROL_CHARACTERS]);
        }
    }

    #[test]
    fn passwords_are_not_trimmed() {
        let mut f = form(json!({"p": "  spaced  "}));
        assert_eq!(f.secret("p").as_deref(), Some("  spaced  "));
        assert!(f.finish().is_ok());
    }

    #[test]
    fn roles_are_choices() {
        let mut f = form(json!({"a": "admin", "s": "staff", "x": "owner", "n": 1}));
        assert_eq!(f.role("a", true), Some(Role::Admin));
        assert_eq!(f.role("s", true), Some(Role::Staff));
        assert_eq!(f.role("missing", false), None);
        assert_eq!(f.role("x", true), None);
        assert_eq!(f.role("n", true), None);
        let errors = errors(f);
        assert!(!errors.contains_key("missing"));
        assert_eq!(errors["x"], vec!["\"owner\" is not a valid choice."]);
        assert_eq!(errors["n"], vec!["\"1\" is not a valid choice."]);
    }

    #[test]
    fn nullable_uuids() {
        let id = Uuid::now_v7();
        let mut f = form(json!({"a": id.to_string(), "b": null, "c": "nope", "d": 5}));
        assert_eq!(f.nullable_uuid("a"), Some(Some(id)));
        assert_eq!(f.nullable_uuid("b"), Some(None));
        assert_eq!(f.nullable_uuid("absent"), None);
        assert_eq!(f.nullable_uuid("c"), None);
        assert_eq!(f.nullable_uuid("d"), None);
        let errors = errors(f);
        assert_eq!(errors["c"], vec![INVALID_UUID]);
        assert_eq!(errors["d"], vec![INVALID_UUID]);
    }

    #[test]
    fn unique_violations_match_by_constraint_or_columns() {
        let pg = DbError::Unique { constraint: Some("users_email_key".into()), columns: vec![] };
        let lite = DbError::Unique { constraint: None, columns: vec!["email".into()] };
        let other = DbError::Unique { constraint: Some("memberships_pkey".into()), columns: vec![] };
        assert!(is_unique_violation(&pg, "users_email_key", &["email"]));
        assert!(is_unique_violation(&lite, "users_email_key", &["email"]));
        assert!(!is_unique_violation(&other, "users_email_key", &["email"]));
        assert!(!is_unique_violation(&DbError::ForeignKey, "users_email_key", &["email"]));
    }
}
