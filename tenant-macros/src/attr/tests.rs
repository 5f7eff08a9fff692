//! Unit tests of the attribute parsers.

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
        quote!(table = "customers", path = "/api/customers", singular = "customer", create = "staff", delete = "admin"),
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
    let args =
        parse_resource_args(&cx, quote!(table = 5, tabel = "x", delete = "owner", path = "/a", path = "/b", update));
    let errors = errors(cx);
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert!(errors[0].starts_with("`table` expects a string literal\nhelp: `table` needs a table name"));
    assert!(
        errors[1].contains("unknown #[tenant_resource] option `tabel`") && errors[1].contains("did you mean `table`?")
    );
    assert!(errors[2].starts_with("unknown role `owner` for `delete`"));
    assert!(errors[3].starts_with("duplicate `path` on #[tenant_resource]"));
    assert!(errors[4].contains("`update` needs the lowest role"));
    let cx = Ctxt::new();
    parse_resource_args(&cx, quote!(create = admin));
    assert_eq!(super::tests::errors(cx), ["`create` expects a string literal\nhelp: add quotes: `create = \"admin\"`"]);
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

#[test]
fn lookups_forms() {
    let names = |attr: Attribute| {
        let (args, errors) = field(vec![attr]);
        let names = args.lookups.map(|l| l.names.iter().map(|n| n.as_str()).collect::<Vec<_>>());
        (names, errors)
    };
    assert_eq!(
        names(parse_quote!(#[field(lookups = "gte, lte, isnull")])),
        (Some(vec!["gte", "lte", "isnull"]), vec![])
    );
    assert_eq!(names(parse_quote!(#[field(lookups = " in ,gt lt")])), (Some(vec!["in", "gt", "lt"]), vec![]));
    // Every mistake in the string is reported; the valid names are kept.
    let (kept, errors) = names(parse_quote!(#[field(lookups = "gte, gtee, in, gte, exact, icontains, range, GTE")]));
    assert_eq!(kept, Some(vec!["gte", "in"]));
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(errors[0].starts_with(
        "unknown lookup `gtee` in `lookups` on field `x`\nhelp: did you mean `gte`?\n\
         note: the lookups are `in`, `gt`, `gte`, `lt`, `lte`, `isnull`"
    ));
    assert!(errors[1].starts_with("duplicate lookup `gte` in `lookups` on field `x`"));
    assert!(errors[2].contains("add `filter` to #[field]"));
    assert!(errors[3].contains("add `search` to #[field]"));
    assert!(errors[4].contains("`lookups = \"gte, lte\"`"));
    assert!(errors[5].contains("did you mean `gte`?"), "lookups are lowercase: {}", errors[5]);
    let (_, errors) = names(parse_quote!(#[field(lookups = "")]));
    assert!(errors[0].starts_with("`lookups` on field `x` names no lookup"), "{errors:?}");
    // Not a string: the string to write.
    let (_, errors) = names(parse_quote!(#[field(lookups = [in, gte])]));
    assert!(errors[0].contains("add quotes: `lookups = \"in, gte\"`"), "{errors:?}");
    let (_, errors) = names(parse_quote!(#[field(lookups = gte)]));
    assert!(errors[0].contains("add quotes: `lookups = \"gte\"`"), "{errors:?}");
    let (_, errors) = names(parse_quote!(#[field(lookups)]));
    assert!(errors[0].contains("e.g. `lookups = \"gte, lte\"`"), "{errors:?}");
    let (_, errors) = names(parse_quote!(#[field(gte, lookups = "in", lookups = "lt")]));
    assert!(errors[0].contains("lookups are listed in a string: `lookups = \"gte\"`"), "{errors:?}");
    assert!(errors[1].starts_with("duplicate `lookups` on field `x`"), "{errors:?}");
}

#[test]
fn actions_and_read_only() {
    let cx = Ctxt::new();
    let args = parse_resource_args(&cx, quote!(actions = " retrieve,list ,partial_update", read_only));
    assert!(errors(cx).is_empty());
    let actions = args.actions.unwrap().actions.unwrap();
    let served: Vec<&str> = Action::ALL.into_iter().filter(|a| actions.contains(*a)).map(Action::name).collect();
    assert_eq!(served, ["list", "retrieve", "partial_update"]);
    assert!(args.read_only.is_some());
    let cx = Ctxt::new();
    let args = parse_resource_args(&cx, quote!(actions = "list, create, retrieve, update, partial_update, destroy,"));
    assert!(errors(cx).is_empty());
    assert_eq!(args.actions.unwrap().actions, Some(Actions::ALL));
}

#[test]
fn action_errors_are_collected() {
    let cx = Ctxt::new();
    let args = parse_resource_args(
        &cx,
        quote!(
            actions = "lst, list, List, delete, list retrieve, list",
            read_only = true,
            actions = "",
            actions = [list]
        ),
    );
    let errors = errors(cx);
    assert_eq!(errors.len(), 9, "{errors:#?}");
    assert!(errors[0].starts_with("unknown action `lst` in `actions`\nhelp: did you mean `list`?\nnote: the actions are `list`, `create`, `retrieve`, `update`, `partial_update`, `destroy`"), "{errors:#?}");
    assert!(errors[1].contains("did you mean `list`?"), "{errors:#?}");
    assert!(errors[2].contains("`DELETE {path}/{id}` is the action `destroy`"), "{errors:#?}");
    assert!(errors[3].contains("separate the actions with commas: `actions = \"list, retrieve\"`"), "{errors:#?}");
    assert_eq!(errors[4], "duplicate action `list` in `actions`\nhelp: name it once");
    assert!(errors[5].starts_with("`read_only` takes no value"), "{errors:#?}");
    assert!(errors[6].starts_with("`actions` names no action"), "{errors:#?}");
    assert!(errors[7].starts_with("duplicate `actions` on #[tenant_resource]"), "{errors:#?}");
    assert!(errors[8].starts_with("`actions` expects a string literal"), "{errors:#?}");
    // A list with an error names no set of actions.
    assert_eq!(args.actions.unwrap().actions, None);
    assert!(args.read_only.is_none());
    let cx = Ctxt::new();
    parse_resource_args(&cx, quote!(actions(list), list, http_method_names = "x"));
    let errors = super::tests::errors(cx);
    assert!(errors[0].starts_with("`actions` needs the routes to serve"), "{errors:#?}");
    assert!(errors[1].contains("`list` is an action: choose the routes served with `actions ="), "{errors:#?}");
    assert!(errors[2].contains("by Django REST Framework's action names"), "{errors:#?}");
}
