//! A SQL script (a migration file) as separate statements, for Citus.
//!
//! sqlx's migrator sends a migration file as one simple-protocol message. On a Citus coordinator,
//! DDL on a Citus table (`CREATE INDEX`, `ALTER TABLE … ADD CONSTRAINT`, `CREATE POLICY`, `ALTER
//! TABLE … ENABLE ROW LEVEL SECURITY` …) inside such a message fails with `cannot insert multiple
//! commands into a prepared statement`: Citus forwards the command's query string, which is the
//! whole message, to the workers as one prepared statement (seen on Citus 13.0.5, issue 16).
//! Inside a PL/pgSQL block each statement is a query string of its own, so on Citus a migration
//! runs as one `DO` block that `EXECUTE`s its statements one by one, in the same transaction:
//! [`one_block`]. Its checksum stays the file's (`migrations/apply.rs`).

/// `sql`'s statements, split at each `;` outside quotes, dollar quotes and comments, each
/// trimmed; text with nothing but comments and blanks between two `;` is dropped. Understands
/// PostgreSQL's lexical rules (PostgreSQL docs, "Lexical Structure"): `'…'` with `''`, `E'…'`
/// with backslash escapes, `"…"` identifiers, `$tag$…$tag$` (a `$` after an identifier character,
/// or followed by a digit, is not a tag), `--` to the end of the line and nested `/* */`.
/// An unterminated quote or comment runs to the end of the text, as PostgreSQL would report it.
pub fn split(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    let mut statements = Vec::new();
    let (mut start, mut i, mut content) = (0, 0, false);
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match b {
            b';' => {
                if content {
                    statements.push(sql[start..i].trim());
                }
                start = i + 1;
                content = false;
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            content = true;
        }
        match b {
            b'\'' => {
                let escapes = i > 0 && matches!(bytes[i - 1], b'E' | b'e') && (i < 2 || !ident(bytes[i - 2]));
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if escapes => i += 2,
                        b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'"' => {
                i = sql[i + 1..].find('"').map_or(bytes.len(), |n| i + 1 + n + 1);
            }
            b'$' if (i == 0 || !ident(bytes[i - 1])) && !next.is_some_and(|n| n.is_ascii_digit()) => {
                let tag_end = sql[i + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map(|n| i + 1 + n)
                    .filter(|&e| bytes[e] == b'$');
                match tag_end {
                    Some(end) => {
                        let tag = &sql[i..=end];
                        i = sql[end + 1..].find(tag).map_or(bytes.len(), |n| end + 1 + n + tag.len());
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    if content {
        statements.push(sql[start..].trim());
    }
    statements
}

/// `sql` as one PL/pgSQL `DO` block that `EXECUTE`s each of its statements ([`split`]) in order,
/// each as a query string of its own, after `first` (statements too, such as a `SET LOCAL`).
/// Each statement is written as a dollar-quoted string whose tag it does not contain.
pub fn one_block(sql: &str, first: &[&str]) -> String {
    let statements: Vec<&str> = first.iter().copied().chain(split(sql)).collect();
    let outer = free_tag("tenant_migration", &statements);
    let mut out = format!("DO {outer} BEGIN\n");
    for statement in &statements {
        let tag = free_tag("s", &[statement]);
        out.push_str(&format!("EXECUTE {tag}{statement}{tag};\n"));
    }
    out.push_str(&format!("END {outer}"));
    out
}

/// `$name$`, or `$name1$`, `$name2$` …: the first that none of `texts` contains.
fn free_tag(name: &str, texts: &[&str]) -> String {
    (0..)
        .map(|n| if n == 0 { format!("${name}$") } else { format!("${name}{n}$") })
        .find(|tag| !texts.iter().any(|t| t.contains(tag.as_str())))
        .expect("an unused tag exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE t (a text DEFAULT 'x;''y');\n\
                   /* block; /* nested; */ still; */ INSERT INTO \"we;ird\" VALUES (E'\\';', $1);\n\
                   DO $$ BEGIN PERFORM 1; END $$;\nDO $body$ SELECT '$$;' $body$;\n\
                   SELECT a$b FROM t; -- trailing\n  ;  ; -- only a comment\n";
        assert_eq!(
            split(sql),
            vec![
                "-- a comment; with a semicolon\nCREATE TABLE t (a text DEFAULT 'x;''y')",
                "/* block; /* nested; */ still; */ INSERT INTO \"we;ird\" VALUES (E'\\';', $1)",
                "DO $$ BEGIN PERFORM 1; END $$",
                "DO $body$ SELECT '$$;' $body$",
                "SELECT a$b FROM t",
            ]
        );
        assert_eq!(split("SELECT 1"), vec!["SELECT 1"]);
        assert!(split("-- nothing\n/* at all */ ;").is_empty());
        // Not an escape string: `e` ends an identifier, so the backslash is a plain character.
        assert_eq!(split("SELECT name'\\'; SELECT 2"), vec!["SELECT name'\\'", "SELECT 2"]);
    }

    #[test]
    fn one_block_quotes_each_statement_with_a_tag_it_lacks() {
        let block = one_block("CREATE TABLE t (a int);\nDO $s$ BEGIN NULL; END $s$;", &["SET LOCAL x.y TO 'z'"]);
        assert_eq!(
            block,
            "DO $tenant_migration$ BEGIN\nEXECUTE $s$SET LOCAL x.y TO 'z'$s$;\nEXECUTE $s$CREATE TABLE t (a int)$s$;\n\
             EXECUTE $s1$DO $s$ BEGIN NULL; END $s$$s1$;\nEND $tenant_migration$"
        );
        assert_eq!(split(&block).len(), 1);
    }
}
