//! What an e-mail address must look like: the rule of every `email` field, and the ASCII form of
//! a mail domain.

/// An address as mail can be sent to it, whole: a local part that is a dot-atom (RFC 5322's
/// `atext` characters and dots, no leading, trailing or doubled dot; non-ASCII letters allowed,
/// as RFC 6531 does), at most 64 bytes, then `@` and a domain of at least two labels that
/// IDNA (UTS 46, STD3 rules, via the `idna` crate) accepts; at most 254 bytes in all. So no
/// quoted local parts, comments or `Name <address>` forms: what is stored is where the mail goes.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    s.len() <= 254 && is_dot_atom(local) && email_domain_ascii(domain).is_some()
}

/// RFC 5322 `atext` outside letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || ATEXT_SPECIALS.contains(c)
                        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                })
        })
}

/// The ASCII (A-label) form of a mail domain, if it is one: IDNA with STD3 rules, at least two
/// labels, each 1-63 characters not starting or ending with `-`, 253 in all.
pub fn email_domain_ascii(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::STD3).ok()?.into_owned();
    let labels: Vec<&str> = ascii.split('.').collect();
    let ok = ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
    ok.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@x.io",
            "jos\u{e9}@caf\u{e9}.example",
            "a@xn--caf-dma.fr",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "a b@c.co",
            "a@b..co",
            "a@b.co.",
            ".a@b.co",
            "a.@b.co",
            "a..b@c.co",
            // Not a bare address: what a mailer would read as a display name, a quoted or
            // commented local part, a list.
            "ceo<attacker@example.com>",
            "x<a@b.co>",
            "\"a b\"@c.co",
            "a(c)@b.co",
            "a,b@c.co",
            "a@b.co,c@d.co",
            "a\\b@c.co",
            "a[1]@b.co",
            "a;b@c.co",
            "a:b@c.co",
            // Domains IDNA refuses.
            "a@-b.co",
            "a@b-.co",
            "a@b_c.co",
            "a@b.co/x",
            "a@b!.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
