//! Reading one attribute value: a literal, a string, a range's bounds, each with an error under
//! its tokens that says what to write instead.

use std::fmt::Display;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprRange, Lit, LitStr, Path, RangeLimits, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::names;
use crate::symbol::*;

/// Stores a value, or reports a duplicate key at its second occurrence.
pub(super) fn set<T>(cx: &Ctxt, slot: &mut Option<T>, key: &Path, owner: &str, value: T) {
    if slot.is_some() {
        let name = key.to_token_stream().to_string();
        cx.error_spanned_by(key, format!("duplicate `{name}` on {owner}\nhelp: remove one of them"));
    } else {
        *slot = Some(value);
    }
}

pub(super) fn did_you_mean(wrong: &str, valid: &[Symbol]) -> String {
    let options = if valid.len() == 1 { "the only option is" } else { "the options are" };
    match names::closest(wrong, valid) {
        Some(key) => format!("help: did you mean `{key}`?\nnote: {options} {}", list(valid)),
        None => format!("help: remove it; {options} {}", list(valid)),
    }
}

/// Reads `= VALUE` after a key. Records an error and returns `None` when the value is missing
/// or does not parse, after skipping to the next `,`, so the remaining keys are still read.
pub(super) fn value<T: Parse>(cx: &Ctxt, meta: &ParseNestedMeta, missing: &str) -> syn::Result<Option<T>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, missing);
        skip_rest(meta.input)?;
        return Ok(None);
    }
    let eq: Token![=] = meta.input.parse()?;
    let fork = meta.input.fork();
    let parsed = match fork.parse::<T>() {
        Ok(value) if fork.is_empty() || fork.peek(Token![,]) => {
            meta.input.advance_to(&fork);
            return Ok(Some(value));
        }
        other => other,
    };
    let tokens = take_until_comma(meta.input)?;
    if tokens.is_empty() {
        cx.error_spanned_by(eq, missing);
    } else {
        match parsed {
            Err(err) => cx.syn_error(err),
            Ok(_) => cx.error_spanned_by(tokens, format!("unexpected tokens\nhelp: {missing}")),
        }
    }
    Ok(None)
}

/// `= "…"` after a key.
pub(super) fn string_value(cx: &Ctxt, meta: &ParseNestedMeta, hint: &str) -> syn::Result<Option<LitStr>> {
    let key = meta.path.to_token_stream().to_string();
    Ok(value::<Expr>(cx, meta, hint)?.and_then(|expr| match unwrap_expr(&expr) {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(lit), .. }) => Some(lit.clone()),
        Expr::Path(path) if path.path.get_ident().is_some() => {
            let word = path.path.get_ident().map(ToString::to_string).unwrap_or_default();
            cx.error_spanned_by(
                path,
                format!("`{key}` expects a string literal\nhelp: add quotes: `{key} = \"{word}\"`"),
            );
            None
        }
        other => {
            cx.error_spanned_by(other, format!("`{key}` expects a string literal\nhelp: {hint}"));
            None
        }
    }))
}

/// Skips whatever follows a key up to the next top-level `,`.
pub(super) fn skip_rest(input: ParseStream) -> syn::Result<()> {
    take_until_comma(input).map(drop)
}

pub(super) fn take_until_comma(input: ParseStream) -> syn::Result<TokenStream> {
    input.step(|cursor| {
        let mut rest = *cursor;
        let mut tokens = TokenStream::new();
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            tokens.extend([tt]);
            rest = next;
        }
        Ok((tokens, rest))
    })
}

pub(super) fn unwrap_expr(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Paren(inner) => expr = &inner.expr,
            Expr::Group(inner) => expr = &inner.expr,
            _ => return expr,
        }
    }
}

/// Reads `a..=b`, `..=b`, `a..` into inclusive bounds with `bound` for each end.
pub(super) fn parse_bounds<T: PartialOrd + Display + Copy>(
    expr: &Expr,
    key: &str,
    field: &str,
    bound: impl Fn(&Expr) -> syn::Result<T>,
) -> syn::Result<(Option<T>, Option<T>)> {
    let example = if key == "len" { "len = 1..=200" } else { "range = 0..=100" };
    let range: &ExprRange = match unwrap_expr(expr) {
        Expr::Range(range) => range,
        Expr::Lit(syn::ExprLit { lit: Lit::Int(_) | Lit::Float(_), .. }) | Expr::Unary(_) => {
            let n = expr.to_token_stream().to_string().replace(' ', "");
            return Err(syn::Error::new_spanned(
                expr,
                format!(
                    "`{key}` on field `{field}` needs a range, not a single number\n\
                     help: write `{key} = {n}..={n}` for exactly {n}, `{key} = ..={n}` for at most {n}, or `{key} = {n}..` for at least {n}"
                ),
            ));
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!("`{key}` on field `{field}` needs a range of literals\nhelp: write e.g. `{example}`"),
            ));
        }
    };
    if let RangeLimits::HalfOpen(_) = range.limits
        && let Some(end) = &range.end
    {
        let start = range.start.as_ref().map(|s| s.to_token_stream().to_string().replace(' ', "")).unwrap_or_default();
        let end = end.to_token_stream().to_string().replace(' ', "");
        return Err(syn::Error::new_spanned(
            range,
            format!(
                "`{key}` on field `{field}` must be an inclusive range\n\
                     help: write `{key} = {start}..={end}` if {end} itself is allowed (`..` excludes the end; `..=` includes it)"
            ),
        ));
    }
    let min = range.start.as_deref().map(&bound).transpose()?;
    let max = range.end.as_deref().map(&bound).transpose()?;
    match (min, max) {
        (None, None) => Err(syn::Error::new_spanned(
            range,
            format!(
                "`{key} = ..` on field `{field}` sets no bound\nhelp: give a bound, e.g. `{example}`, or remove `{key}`"
            ),
        )),
        (Some(lo), Some(hi)) if lo > hi => Err(syn::Error::new_spanned(
            range,
            format!(
                "`{key}` on field `{field}` is empty: {lo} is greater than {hi}\nhelp: write the smaller bound first, e.g. `{key} = {hi}..={lo}`"
            ),
        )),
        bounds => Ok(bounds),
    }
}

pub(super) fn usize_literal(expr: &Expr, field: &str) -> syn::Result<usize> {
    match unwrap_expr(expr) {
        Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => int.base10_parse::<usize>(),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`len` bounds on field `{field}` must be whole numbers of characters\nhelp: write e.g. `len = 1..=200`"
            ),
        )),
    }
}

pub(super) fn number_literal(expr: &Expr, field: &str) -> syn::Result<f64> {
    let value = match unwrap_expr(expr) {
        Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => int.base10_parse::<f64>()?,
        Expr::Lit(syn::ExprLit { lit: Lit::Float(float), .. }) => float.base10_parse::<f64>()?,
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match unwrap_expr(&unary.expr) {
            inner @ Expr::Lit(_) => -number_literal(inner, field)?,
            other => return Err(not_a_number(other, field)),
        },
        other => return Err(not_a_number(other, field)),
    };
    if !value.is_finite() {
        return Err(syn::Error::new_spanned(expr, format!("`range` bound on field `{field}` is too large for an f64")));
    }
    Ok(value)
}

pub(super) fn not_a_number(expr: &Expr, field: &str) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format!(
            "`range` bounds on field `{field}` must be number literals\nhelp: write e.g. `range = 0..=100` or `range = -1.5..=1.5`"
        ),
    )
}

/// `= "…"` after `lookups`. Anything else (`lookups = in`, `lookups = [gte, lte]`) is an error
/// that spells the string to write: `in` is a Rust keyword, so lookups are always a string.
pub(super) fn lookups_string(cx: &Ctxt, meta: &ParseNestedMeta, field: &str) -> syn::Result<Option<LitStr>> {
    let hint = format!("`lookups` on field `{field}` needs a string of lookups, e.g. `lookups = \"gte, lte\"`");
    if !meta.input.peek(Token![=]) || meta.input.peek2(LitStr) {
        return string_value(cx, meta, &hint);
    }
    let eq: Token![=] = meta.input.parse()?;
    let tokens = take_until_comma(meta.input)?;
    if tokens.is_empty() {
        cx.error_spanned_by(eq, hint);
        return Ok(None);
    }
    let mut words = Vec::new();
    collect_idents(tokens.clone(), &mut words);
    let help = if words.is_empty() {
        format!("help: write e.g. `lookups = \"gte, lte\"`\nnote: the lookups are {}", list(LOOKUP_NAMES))
    } else {
        format!("help: add quotes: `lookups = \"{}\"` (a string, since `in` is a Rust keyword)", words.join(", "))
    };
    cx.error_spanned_by(tokens, format!("`lookups` expects a string literal\n{help}"));
    Ok(None)
}

fn collect_idents(tokens: TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

/// The lookups named in `lookups = "gte, lte"` (separated by commas or spaces), each once.
/// Unknown and repeated names are reported on the string and left out.
pub(super) fn lookup_names(cx: &Ctxt, lit: &LitStr, field: &str) -> Vec<Symbol> {
    let text = lit.value();
    let words: Vec<&str> = text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        cx.error_spanned_by(
            lit,
            format!(
                "`lookups` on field `{field}` names no lookup\n\
                 help: list them, e.g. `lookups = \"gte, lte\"`, or remove `lookups`\nnote: the lookups are {}",
                list(LOOKUP_NAMES)
            ),
        );
    }
    let mut found: Vec<Symbol> = Vec::new();
    for word in words {
        match LOOKUP_NAMES.iter().find(|name| name.as_str() == word) {
            Some(name) if found.contains(name) => cx.error_spanned_by(
                lit,
                format!("duplicate lookup `{word}` in `lookups` on field `{field}`\nhelp: name each lookup once"),
            ),
            Some(name) => found.push(*name),
            None => {
                let help = match word.to_ascii_lowercase().as_str() {
                    "exact" | "eq" | "equals" => {
                        format!(
                            "help: exact matches are the field's filter: remove `{word}` and add `filter` to #[field]"
                        )
                    }
                    "contains" | "icontains" | "iexact" | "startswith" | "istartswith" | "endswith" | "iendswith"
                    | "like" | "search" => {
                        "help: for case-insensitive substring matches, add `search` to #[field] instead".to_owned()
                    }
                    "range" | "between" => "help: for a range, write both ends: `lookups = \"gte, lte\"`".to_owned(),
                    _ => match names::closest(word, LOOKUP_NAMES) {
                        Some(name) => format!("help: did you mean `{name}`?"),
                        None => "help: remove it".to_owned(),
                    },
                };
                cx.error_spanned_by(
                    lit,
                    format!(
                        "unknown lookup `{word}` in `lookups` on field `{field}`\n{help}\nnote: the lookups are {}",
                        list(LOOKUP_NAMES)
                    ),
                );
            }
        }
    }
    found
}
