//! Parsing of `#[tenant_resource(...)]`, `#[field(...)]` and `#[choice(...)]` into plain values.
//!
//! Every value keeps the tokens it came from, so later errors point at what the user wrote.
//! Nothing here stops at the first mistake: errors go to the [`Ctxt`] and parsing carries on
//! with the next key.

use std::fmt::Display;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Attribute, Expr, ExprRange, Lit, LitStr, Meta, Path, RangeLimits, Token, Type, UnOp};

use crate::ctxt::Ctxt;
use crate::names;
use crate::symbol::*;

/// The role a write needs (`create`, `update`, `delete` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Staff,
    Admin,
}

/// A role as written: `delete = "admin"`.
#[derive(Debug, Clone)]
pub struct RoleArg {
    pub role: Role,
}

/// The arguments of `#[tenant_resource(...)]`. `None` means "not written": defaults are applied
/// by the model in `ast.rs`.
#[derive(Debug, Default)]
pub struct ResourceArgs {
    pub table: Option<LitStr>,
    pub path: Option<LitStr>,
    pub singular: Option<LitStr>,
    pub create: Option<RoleArg>,
    pub update: Option<RoleArg>,
    pub delete: Option<RoleArg>,
}

/// `len = 1..=200`: bounds in characters.
#[derive(Debug, Clone)]
pub struct LenArg {
    pub min: Option<usize>,
    pub max: Option<usize>,
}

/// `range = 0..=100`: inclusive numeric bounds.
#[derive(Debug, Clone)]
pub struct RangeArg {
    pub key: Path,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `default` or `default = EXPR`.
#[derive(Debug, Clone)]
pub enum DefaultArg {
    /// `default`: `<T as Default>::default()`.
    Trait(Path),
    /// `default = EXPR`: `Into::<T>::into(EXPR)`.
    Expr(Box<Expr>),
}

/// `references = Customer`.
#[derive(Debug, Clone)]
pub struct ReferencesArg {
    pub target: Type,
}

/// The options of one field, merged over all of its `#[field(...)]` attributes. Flags keep the
/// key's path so errors about them point at the key.
#[derive(Debug, Default, Clone)]
pub struct FieldArgs {
    pub unique: Option<Path>,
    pub filter: Option<Path>,
    pub search: Option<Path>,
    pub order: Option<Path>,
    pub email: Option<Path>,
    pub len: Option<LenArg>,
    pub range: Option<RangeArg>,
    pub default: Option<DefaultArg>,
    pub references: Option<ReferencesArg>,
}

/// The options of one enum variant: `#[choice(rename = "…")]`.
#[derive(Debug, Default, Clone)]
pub struct ChoiceArgs {
    pub rename: Option<LitStr>,
}

/// Parses the tokens inside `#[tenant_resource(...)]`.
pub fn parse_resource_args(cx: &Ctxt, tokens: TokenStream) -> ResourceArgs {
    let mut args = ResourceArgs::default();
    let parser = syn::meta::parser(|meta| parse_resource_key(cx, &mut args, meta));
    if let Err(err) = parser.parse2(tokens) {
        cx.syn_error(err);
    }
    args
}

fn parse_resource_key(cx: &Ctxt, args: &mut ResourceArgs, meta: ParseNestedMeta) -> syn::Result<()> {
    let owner = "#[tenant_resource]";
    let key = meta.path.clone();
    if key == TABLE {
        let hint = "`table` needs a table name: `table = \"customers\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.table, &key, owner, lit);
        }
    } else if key == PATH {
        let hint = "`path` needs a URL path: `path = \"/api/customers\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.path, &key, owner, lit);
        }
    } else if key == SINGULAR {
        let hint = "`singular` needs the name of one item, used in messages: `singular = \"customer\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.singular, &key, owner, lit);
        }
    } else if key == CREATE || key == UPDATE || key == DELETE {
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        let hint =
            format!("`{name}` needs the lowest role allowed to {name}: `{name} = \"admin\"` or `{name} = \"staff\"`");
        if let Some(lit) = string_value(cx, &meta, &hint)? {
            let role = match lit.value().as_str() {
                "admin" => Some(Role::Admin),
                "staff" => Some(Role::Staff),
                other => {
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "unknown role `{other}` for `{name}`\n\
                             help: the roles are \"admin\" and \"staff\" (the default): write `{name} = \"admin\"`"
                        ),
                    );
                    None
                }
            };
            let slot = if key == CREATE {
                &mut args.create
            } else if key == UPDATE {
                &mut args.update
            } else {
                &mut args.delete
            };
            if let Some(role) = role {
                set(cx, slot, &key, owner, RoleArg { role });
            }
        }
    } else {
        let shown = key.to_token_stream().to_string().replace(' ', "");
        let help = match shown.as_str() {
            "name" | "table_name" => {
                "help: write `table = \"…\"` for the table, or `singular = \"…\"` for the name used in messages"
                    .to_owned()
            }
            "route" | "url" | "prefix" | "endpoint" | "base_path" => "help: write `path = \"/api/…\"`".to_owned(),
            "read" | "list" | "get" | "view" | "retrieve" => {
                "help: reads are open to every member of the company; only `create`, `update` and `delete` take a role"
                    .to_owned()
            }
            "plural" => "help: write `table = \"…\"` (the path defaults to \"/api/\" followed by the table)".to_owned(),
            _ => did_you_mean(&shown, RESOURCE_KEYS),
        };
        cx.error_spanned_by(&key, format!("unknown #[tenant_resource] option `{shown}`\n{help}"));
        skip_rest(meta.input)?;
    }
    Ok(())
}

/// Parses every `#[field(...)]` attribute of one field (named `field` in messages).
pub fn parse_field_args(cx: &Ctxt, field: &str, attrs: &[Attribute]) -> FieldArgs {
    let mut args = FieldArgs::default();
    for attr in attrs.iter().filter(|attr| attr.path() == FIELD) {
        match &attr.meta {
            Meta::List(_) => {}
            Meta::Path(path) => {
                cx.error_spanned_by(
                    path,
                    format!(
                        "#[field] on `{field}` has no options\n\
                         help: list options in parentheses, e.g. `#[field(filter, order)]`, or remove the attribute"
                    ),
                );
                continue;
            }
            Meta::NameValue(nv) => {
                cx.error_spanned_by(
                    nv,
                    format!("#[field] on `{field}` takes a list\nhelp: write `#[field(unique, len = 1..=200)]`"),
                );
                continue;
            }
        }
        if let Err(err) = attr.parse_nested_meta(|meta| parse_field_key(cx, field, &mut args, meta)) {
            cx.syn_error(err);
        }
    }
    args
}

fn parse_field_key(cx: &Ctxt, field: &str, args: &mut FieldArgs, meta: ParseNestedMeta) -> syn::Result<()> {
    let owner = format!("field `{field}`");
    let key = meta.path.clone();
    let flags: [(Symbol, &mut Option<Path>); 5] = [
        (UNIQUE, &mut args.unique),
        (FILTER, &mut args.filter),
        (SEARCH, &mut args.search),
        (ORDER, &mut args.order),
        (EMAIL, &mut args.email),
    ];
    for (symbol, slot) in flags {
        if key == symbol {
            if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                cx.error_spanned_by(
                    &key,
                    format!("`{symbol}` on field `{field}` takes no value\nhelp: write just `{symbol}`, e.g. `#[field({symbol})]`"),
                );
                skip_rest(meta.input)?;
            } else {
                set(cx, slot, &key, &owner, key.clone());
            }
            return Ok(());
        }
    }
    if key == LEN {
        let hint = format!(
            "`len` on field `{field}` needs a range of characters, e.g. `len = 1..=200`, `len = ..=50` or `len = 1..`"
        );
        if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
            match parse_bounds(&expr, "len", field, |e| usize_literal(e, field)) {
                Ok((min, max)) => set(cx, &mut args.len, &key, &owner, LenArg { min, max }),
                Err(err) => cx.syn_error(err),
            }
        }
    } else if key == RANGE {
        let hint = format!(
            "`range` on field `{field}` needs a range of numbers, e.g. `range = 0..`, `range = ..=100` or `range = 1..=5`"
        );
        if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
            match parse_bounds(&expr, "range", field, |e| number_literal(e, field)) {
                Ok((min, max)) => set(cx, &mut args.range, &key, &owner, RangeArg { key: key.clone(), min, max }),
                Err(err) => cx.syn_error(err),
            }
        }
    } else if key == DEFAULT {
        if meta.input.peek(Token![=]) {
            let hint = format!(
                "`default =` on field `{field}` needs a value, e.g. `default = 0`, or write just `default` for `Default::default()`"
            );
            if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
                set(cx, &mut args.default, &key, &owner, DefaultArg::Expr(Box::new(expr)));
            }
        } else if meta.input.peek(syn::token::Paren) {
            cx.error_spanned_by(
                &key,
                format!("`default` on field `{field}` is written `default = value`\nhelp: e.g. `default = 0`, or just `default` for `Default::default()`"),
            );
            skip_rest(meta.input)?;
        } else {
            set(cx, &mut args.default, &key, &owner, DefaultArg::Trait(key.clone()));
        }
    } else if key == REFERENCES {
        let hint =
            format!("`references` on field `{field}` needs the referenced resource type: `references = Customer`");
        if meta.input.peek(Token![=]) && meta.input.peek2(LitStr) {
            meta.input.parse::<Token![=]>()?;
            let lit: LitStr = meta.input.parse()?;
            cx.error_spanned_by(
                &lit,
                format!(
                    "`references` on field `{field}` takes a type, not a string\nhelp: write `references = {}`",
                    lit.value()
                ),
            );
        } else if let Some(target) = value::<Type>(cx, &meta, &hint)? {
            match &target {
                Type::Path(path) if path.qself.is_none() => {
                    set(cx, &mut args.references, &key, &owner, ReferencesArg { target });
                }
                _ => cx.error_spanned_by(
                    &target,
                    format!("`references` on field `{field}` needs a #[tenant_resource] struct\nhelp: {hint}"),
                ),
            }
        }
    } else {
        let shown = key.to_token_stream().to_string().replace(' ', "");
        let help = match shown.as_str() {
            "nullable" | "optional" | "null" | "option" => {
                format!("help: to make `{field}` optional, give it the type `Option<T>`")
            }
            "required" => format!(
                "help: fields are required unless their type is `Option<T>` or they have a `default`, so `{field}` needs nothing"
            ),
            "min_len" | "max_len" | "length" | "min_length" | "max_length" | "size" | "max_chars" => {
                "help: write the length as a range of characters, e.g. `len = 1..=200`".to_owned()
            }
            "min" | "max" | "minimum" | "maximum" | "between" | "value" => {
                "help: write the bounds as a range, e.g. `range = 0..=100`".to_owned()
            }
            "ref" | "reference" | "foreign_key" | "fk" | "belongs_to" => {
                "help: write `references = OtherResource`".to_owned()
            }
            "sort" | "sortable" => format!("help: did you mean `order`?\nnote: the options are {}", list(FIELD_KEYS)),
            "rename" | "column" | "name" => {
                format!("help: the column and the JSON key are the field's name, `{field}`; rename the field itself")
            }
            _ => did_you_mean(&shown, FIELD_KEYS),
        };
        cx.error_spanned_by(&key, format!("unknown option `{shown}` on field `{field}`\n{help}"));
        skip_rest(meta.input)?;
    }
    Ok(())
}

/// Parses the `#[choice(...)]` attributes of one enum variant.
pub fn parse_choice_args(cx: &Ctxt, variant: &str, attrs: &[Attribute]) -> ChoiceArgs {
    let mut args = ChoiceArgs::default();
    for attr in attrs.iter().filter(|attr| attr.path() == CHOICE) {
        if !matches!(attr.meta, Meta::List(_)) {
            cx.error_spanned_by(
                attr,
                format!("#[choice] on `{variant}` takes a list\nhelp: write `#[choice(rename = \"…\")]`"),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.clone();
            if key == RENAME {
                let hint = format!("`rename` on `{variant}` needs the stored name: `rename = \"…\"`");
                if let Some(lit) = string_value(cx, &meta, &hint)? {
                    set(cx, &mut args.rename, &key, &format!("variant `{variant}`"), lit);
                }
            } else {
                let shown = key.to_token_stream().to_string().replace(' ', "");
                cx.error_spanned_by(
                    &key,
                    format!("unknown #[choice] option `{shown}` on `{variant}`\n{}", did_you_mean(&shown, CHOICE_KEYS)),
                );
                skip_rest(meta.input)?;
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    args
}

/// Stores a value, or reports a duplicate key at its second occurrence.
fn set<T>(cx: &Ctxt, slot: &mut Option<T>, key: &Path, owner: &str, value: T) {
    if slot.is_some() {
        let name = key.to_token_stream().to_string();
        cx.error_spanned_by(key, format!("duplicate `{name}` on {owner}\nhelp: remove one of them"));
    } else {
        *slot = Some(value);
    }
}

fn did_you_mean(wrong: &str, valid: &[Symbol]) -> String {
    let options = if valid.len() == 1 { "the only option is" } else { "the options are" };
    match names::closest(wrong, valid) {
        Some(key) => format!("help: did you mean `{key}`?\nnote: {options} {}", list(valid)),
        None => format!("help: remove it; {options} {}", list(valid)),
    }
}

/// Reads `= VALUE` after a key. Records an error and returns `None` when the value is missing
/// or does not parse, after skipping to the next `,`, so the remaining keys are still read.
fn value<T: Parse>(cx: &Ctxt, meta: &ParseNestedMeta, missing: &str) -> syn::Result<Option<T>> {
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
fn string_value(cx: &Ctxt, meta: &ParseNestedMeta, hint: &str) -> syn::Result<Option<LitStr>> {
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
fn skip_rest(input: ParseStream) -> syn::Result<()> {
    take_until_comma(input).map(drop)
}

fn take_until_comma(input: ParseStream) -> syn::Result<TokenStream> {
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

fn unwrap_expr(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Paren(inner) => expr = &inner.expr,
            Expr::Group(inner) => expr = &inner.expr,
            _ => return expr,
        }
    }
}

/// Reads `a..=b`, `..=b`, `a..` into inclusive bounds with `bound` for each end.
fn parse_bounds<T: PartialOrd + Display + Copy>(
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

fn usize_literal(expr: &Expr, field: &str) -> syn::Result<usize> {
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

fn number_literal(expr: &Expr, field: &str) -> syn::Result<f64> {
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

fn not_a_number(expr: &Expr, field: &str) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        format!(
            "`range` bounds on field `{field}` must be number literals\nhelp: write e.g. `range = 0..=100` or `range = -1.5..=1.5`"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use syn::parse_quote;

    fn field(attrs: Vec<Attribute>) -> (FieldArgs, Vec<String>) {
        let cx = Ctxt::new();
        let args = parse_field_args(&cx, "x", &attrs);
        (args, errors(cx))
    }

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => vec![],
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn resource_args() {
        let cx = Ctxt::new();
        let args = parse_resource_args(
            &cx,
            quote!(
                table = "customers",
                path = "/api/customers",
                singular = "customer",
                create = "staff",
                delete = "admin"
            ),
        );
        assert!(errors(cx).is_empty());
        assert_eq!(args.table.unwrap().value(), "customers");
        assert_eq!(args.path.unwrap().value(), "/api/customers");
        assert_eq!(args.singular.unwrap().value(), "customer");
        assert_eq!(args.create.unwrap().role, Role::Staff);
        assert!(args.update.is_none());
        assert_eq!(args.delete.unwrap().role, Role::Admin);
    }

    #[test]
    fn resource_args_collects_every_error() {
        let cx = Ctxt::new();
        let args = parse_resource_args(
            &cx,
            quote!(table = 5, tabel = "x", delete = "owner", path = "/a", path = "/b", update),
        );
        let errors = errors(cx);
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].starts_with("`table` expects a string literal\nhelp: `table` needs a table name"));
        assert!(
            errors[1].contains("unknown #[tenant_resource] option `tabel`")
                && errors[1].contains("did you mean `table`?")
        );
        assert!(errors[2].starts_with("unknown role `owner` for `delete`"));
        assert!(errors[3].starts_with("duplicate `path` on #[tenant_resource]"));
        assert!(errors[4].contains("`update` needs the lowest role"));
        let cx = Ctxt::new();
        parse_resource_args(&cx, quote!(create = admin));
        assert_eq!(
            super::tests::errors(cx),
            ["`create` expects a string literal\nhelp: add quotes: `create = \"admin\"`"]
        );
        // The valid keys were kept.
        assert_eq!(args.path.unwrap().value(), "/a");
    }

    #[test]
    fn field_flags_and_values() {
        let (args, errors) = field(vec![
            parse_quote!(#[field(unique, filter, search, order, email, len = 1..=200)]),
            parse_quote!(#[field(default = Status::Draft, references = crate::Customer)]),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(args.unique.is_some() && args.filter.is_some() && args.search.is_some());
        assert!(args.order.is_some() && args.email.is_some() && args.range.is_none());
        let len = args.len.unwrap();
        assert_eq!((len.min, len.max), (Some(1), Some(200)));
        assert!(matches!(args.default, Some(DefaultArg::Expr(_))));
        let target = args.references.unwrap().target;
        assert_eq!(quote!(#target).to_string(), "crate :: Customer");
    }

    #[test]
    fn ranges() {
        let len = |attr: Attribute| field(vec![attr]).0.len.map(|l| (l.min, l.max));
        assert_eq!(len(parse_quote!(#[field(len = ..=50)])), Some((None, Some(50))));
        assert_eq!(len(parse_quote!(#[field(len = 1..)])), Some((Some(1), None)));
        let range = |attr: Attribute| field(vec![attr]).0.range.map(|r| (r.min, r.max));
        assert_eq!(range(parse_quote!(#[field(range = 0..)])), Some((Some(0.0), None)));
        assert_eq!(range(parse_quote!(#[field(range = -5..=5)])), Some((Some(-5.0), Some(5.0))));
        assert_eq!(range(parse_quote!(#[field(range = -0.5..=1.5)])), Some((Some(-0.5), Some(1.5))));
        assert_eq!(range(parse_quote!(#[field(range = ..=100)])), Some((None, Some(100.0))));
    }

    #[test]
    fn bad_ranges() {
        let err = |attr: Attribute| field(vec![attr]).1.join("\n---\n");
        assert!(err(parse_quote!(#[field(len = 1..200)])).contains("write `len = 1..=200`"));
        assert!(err(parse_quote!(#[field(range = 0..10)])).contains("write `range = 0..=10`"));
        assert!(err(parse_quote!(#[field(len = 5)])).contains("write `len = 5..=5` for exactly 5"));
        assert!(err(parse_quote!(#[field(len = "short")])).contains("needs a range of literals"));
        assert!(err(parse_quote!(#[field(len = ..)])).contains("sets no bound"));
        assert!(err(parse_quote!(#[field(len = 9..=2)])).contains("9 is greater than 2"));
        assert!(err(parse_quote!(#[field(len = -1..=2)])).contains("whole numbers"));
        assert!(err(parse_quote!(#[field(range = a..=2)])).contains("number literals"));
        assert!(err(parse_quote!(#[field(len)])).contains("needs a range of characters"));
        assert!(err(parse_quote!(#[field(len = )])).contains("needs a range of characters"));
    }

    #[test]
    fn unknown_keys_suggest_and_continue() {
        let (args, errors) =
            field(vec![parse_quote!(#[field(uniqe, nullable, order = true, filter, filter, max_len = 5, search)])]);
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].starts_with("unknown option `uniqe` on field `x`\nhelp: did you mean `unique`?"));
        assert!(errors[1].contains("give it the type `Option<T>`"));
        assert!(errors[2].starts_with("`order` on field `x` takes no value"));
        assert!(errors[3].starts_with("duplicate `filter` on field `x`"));
        assert!(errors[4].contains("`len = 1..=200`"));
        assert!(args.filter.is_some() && args.search.is_some() && args.order.is_none());
    }

    #[test]
    fn default_forms() {
        let (args, errors) = field(vec![parse_quote!(#[field(default)])]);
        assert!(errors.is_empty() && matches!(args.default, Some(DefaultArg::Trait(_))));
        let (args, errors) = field(vec![parse_quote!(#[field(default = Vec::<(u8, u8)>::new().len() as i64)])]);
        assert!(errors.is_empty() && matches!(args.default, Some(DefaultArg::Expr(_))), "{errors:?}");
        let (_, errors) = field(vec![parse_quote!(#[field(default(1))])]);
        assert!(errors[0].contains("is written `default = value`"));
    }

    #[test]
    fn references_forms() {
        let (_, errors) = field(vec![parse_quote!(#[field(references = "Customer")])]);
        assert!(errors[0].contains("write `references = Customer`"), "{errors:?}");
        let (_, errors) = field(vec![parse_quote!(#[field(references = [u8])])]);
        assert!(errors[0].contains("needs a #[tenant_resource] struct"), "{errors:?}");
        let (_, errors) = field(vec![parse_quote!(#[field(references)])]);
        assert!(errors[0].contains("`references = Customer`"), "{errors:?}");
    }

    #[test]
    fn attribute_shapes() {
        let (_, errors) = field(vec![parse_quote!(#[field])]);
        assert!(errors[0].contains("has no options"));
        let (_, errors) = field(vec![parse_quote!(#[field = "unique"])]);
        assert!(errors[0].contains("takes a list"));
        let (_, errors) = field(vec![parse_quote!(#[field()]), parse_quote!(#[serde(rename = "y")])]);
        assert!(errors.is_empty());
    }

    #[test]
    fn choice_args() {
        let cx = Ctxt::new();
        let args = parse_choice_args(&cx, "Paid", &[parse_quote!(#[choice(rename = "settled")])]);
        assert!(errors(cx).is_empty());
        assert_eq!(args.rename.unwrap().value(), "settled");
        let cx = Ctxt::new();
        parse_choice_args(&cx, "Paid", &[parse_quote!(#[choice(renam = "x", rename = 3)])]);
        let errors = errors(cx);
        assert!(errors[0].contains("did you mean `rename`?"), "{errors:?}");
        assert!(errors[1].starts_with("`rename` expects a string literal"), "{errors:?}");
    }
}
