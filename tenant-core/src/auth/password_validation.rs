//! Django's four default password validators (`django.contrib.auth.password_validation`), with
//! their messages, plus API.md's upper bound: a new password is 8 to 1024 characters, not too
//! similar to the email address, not a common password, not entirely numeric.
//!
//! The common-password list is the `passwords` crate's (`analyzer::is_common_password`), a
//! maintained list in the role of Django's `common-passwords.txt.gz`.

use crate::auth::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

/// `UserAttributeSimilarityValidator`'s default `max_similarity`.
const MAX_SIMILARITY: f64 = 0.7;

/// Every rule `password` breaks for a user with `email`, as Django words them; empty when it
/// may be used. All are reported together, as Django's `validate_password` does.
pub fn validate_password(password: &str, email: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        errors.push(format!("This password is too short. It must contain at least {MIN_PASSWORD_LEN} characters."));
    }
    if len > MAX_PASSWORD_LEN {
        // Not one of Django's; checked first so that nothing below walks a huge string.
        errors.push(format!("Ensure this field has no more than {MAX_PASSWORD_LEN} characters."));
        return errors;
    }
    if too_similar(password, email) {
        errors.push("The password is too similar to the email address.".into());
    }
    if passwords::analyzer::is_common_password(password.trim().to_lowercase()) {
        errors.push("This password is too common.".into());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
        errors.push("This password is entirely numeric.".into());
    }
    errors
}

/// `UserAttributeSimilarityValidator` for the email: the password against the whole address and
/// each of its parts split on non-word characters (`re.split(r"\W+", …)`), skipping parts too
/// short to compare (`exceeds_maximum_length_ratio`), with `SequenceMatcher.quick_ratio`.
fn too_similar(password: &str, email: &str) -> bool {
    let password: Vec<char> = password.to_lowercase().chars().collect();
    let email = email.to_lowercase();
    let parts = email.split(|c: char| !(c.is_alphanumeric() || c == '_')).chain(std::iter::once(email.as_str()));
    parts.map(|part| part.chars().collect::<Vec<char>>()).any(|part| {
        let (pwd_len, value_len) = (password.len() as f64, part.len() as f64);
        let exceeds = pwd_len >= 10.0 * value_len && value_len < MAX_SIMILARITY / 2.0 * pwd_len;
        !exceeds && quick_ratio(&password, &part) >= MAX_SIMILARITY
    })
}

/// Python's `difflib.SequenceMatcher(a, b).quick_ratio()`: twice the size of the multiset
/// intersection of the characters over the total length.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b {
        *available.entry(*c).or_default() += 1;
    }
    let mut matches = 0;
    for c in a {
        if let Some(n) = available.get_mut(c)
            && *n > 0
        {
            *n -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djangos_four_validators() {
        assert!(validate_password("correct horse battery", "ann@acme.test").is_empty());
        assert_eq!(
            validate_password("xq9#zkw", "ann@acme.test"),
            ["This password is too short. It must contain at least 8 characters."]
        );
        for common in ["password", "12345678", "aaaaaaaa", "qwertyuiop", " Password "] {
            assert!(
                validate_password(common, "ann@acme.test").contains(&"This password is too common.".to_string()),
                "{common}"
            );
        }
        assert!(
            validate_password("80461973520", "ann@acme.test")
                .contains(&"This password is entirely numeric.".to_string())
        );
        assert!(
            validate_password("٣٤٥٦٧٨٩٠١٢", "ann@acme.test")
                .contains(&"This password is entirely numeric.".to_string())
        );
        // Similar to the whole address or to a part of it (values checked with Python's difflib).
        let similar = "The password is too similar to the email address.".to_string();
        for (password, email) in [
            ("ANN@ACME.TEST", "ann@acme.test"),
            ("example1", "john.smith@example.com"),
            ("johnsmith", "john.smith@example.com"),
        ] {
            assert!(validate_password(password, email).contains(&similar), "{password} / {email}");
        }
        assert!(!validate_password("correct horse battery", "john.smith@example.com").contains(&similar));
        assert_eq!(
            validate_password(&"x".repeat(MAX_PASSWORD_LEN + 1), "a@b.co"),
            ["Ensure this field has no more than 1024 characters."]
        );
        assert!(validate_password(&"xy".repeat(MAX_PASSWORD_LEN / 2), "a@b.co").is_empty());
    }

    #[test]
    fn quick_ratio_is_pythons() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert_eq!(quick_ratio(&chars("abcd"), &chars("bcde")), 0.75);
        assert_eq!(quick_ratio(&chars("aab"), &chars("ab")), 0.8);
        assert_eq!(quick_ratio(&chars(""), &chars("")), 1.0);
    }
}
