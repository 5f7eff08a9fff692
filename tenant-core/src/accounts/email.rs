//! E-mail addresses of accounts: the one form they are stored and compared in, the rule sign-up
//! and invitations apply, and the rewrite of addresses stored by earlier versions.

use uuid::Uuid;

use crate::db::DbError;
pub(crate) use crate::messages::INVALID_EMAIL;
use crate::validate::email::is_email;
use crate::value::{FieldType, Value};

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
            match crate::validate::email::email_domain_ascii(domain) {
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
    let rows: Vec<(Uuid, String)> = tx.fetch_all_as(sql, &[], ["id", "email"]).await?;
    for (id, email) in rows {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
