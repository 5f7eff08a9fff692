//! Collects every error found while reading the input, so the user sees all of them at once.

use std::cell::{Cell, RefCell};
use std::fmt::Display;

use quote::ToTokens;

/// An error collector. Parsing and checking record errors here and carry on with a best-effort
/// model; [`Ctxt::check`] folds them into one [`syn::Error`] with [`syn::Error::combine`].
///
/// Errors are reported in source order: each is recorded in the current *section* (0 for the
/// item and its attribute, `i + 1` for its i-th field or variant), and sections are reported in
/// order, so a field's parse errors and its rule errors come together, after those above it.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Vec<(usize, syn::Error)>>,
    section: Cell<usize>,
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// Records the following errors under section `section`.
    pub fn section(&self, section: usize) {
        self.section.set(section);
    }

    /// Records an error spanning the tokens of `obj`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, obj: T, msg: M) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error produced by syn (e.g. a syntax error inside an attribute).
    pub fn syn_error(&self, err: syn::Error) {
        self.errors.borrow_mut().push((self.section.get(), err));
    }

    /// All recorded errors folded into one, in source order.
    pub fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_inner();
        errors.sort_by_key(|(section, _)| *section); // stable: keeps the order within a section
        let mut errors = errors.into_iter().map(|(_, err)| err);
        let Some(mut combined) = errors.next() else { return Ok(()) };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn errors_come_out_in_section_order() {
        let cx = Ctxt::new();
        cx.section(2);
        cx.syn_error(syn::Error::new(Span::call_site(), "field 2"));
        cx.section(0);
        cx.syn_error(syn::Error::new(Span::call_site(), "item a"));
        cx.section(1);
        cx.syn_error(syn::Error::new(Span::call_site(), "field 1"));
        cx.section(0);
        cx.syn_error(syn::Error::new(Span::call_site(), "item b"));
        let messages: Vec<String> = cx.check().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["item a", "item b", "field 1", "field 2"]);
        assert!(Ctxt::new().check().is_ok());
    }
}
