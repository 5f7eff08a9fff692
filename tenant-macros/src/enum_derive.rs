//! `#[derive(TenantEnum)]`: a fieldless enum stored and serialized as one of a fixed set of
//! strings (`FieldType::Choice`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::ChoiceEnum;
use crate::check;
use crate::ctxt::Ctxt;

fn private() -> TokenStream {
    quote!(::tenant_core::__private)
}

pub fn tenant_enum(item: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(item) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Ctxt::new();
    let model = ChoiceEnum::from_ast(&cx, &input);
    if let Some(model) = &model {
        check::check_choice_enum(&cx, model);
    }
    match (cx.check(), model) {
        (Ok(()), Some(model)) => expand(&model),
        (result, _) => {
            let errors = result.err().map(|err| err.to_compile_error());
            let fallback = fallback(&input);
            quote!(#errors #fallback)
        }
    }
}

fn expand(model: &ChoiceEnum) -> TokenStream {
    let p = private();
    let ident = model.ident;
    let variants: Vec<_> = model.variants.iter().map(|choice| choice.ident).collect();
    let names: Vec<&str> = model.variants.iter().map(|choice| choice.name.as_str()).collect();
    let expecting = format!(
        "one of {}",
        names.iter().map(|name| format!("\"{}\"", name.escape_default())).collect::<Vec<_>>().join(", ")
    );
    let as_str_doc = format!(" The string this value is stored and serialized as: {expecting}.");
    quote! {
        impl #ident {
            #[doc = #as_str_doc]
            pub const fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #names,)*
                }
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #ident {
            type Err = #p::serde::de::value::Error;

            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                match text {
                    #(#names => ::core::result::Result::Ok(Self::#variants),)*
                    _ => ::core::result::Result::Err(<Self::Err as #p::serde::de::Error>::unknown_variant(text, &[#(#names),*])),
                }
            }
        }

        impl #p::FieldValue for #ident {
            const TYPE: #p::FieldType = #p::FieldType::Choice(&[#(#names),*]);

            fn into_value(self) -> #p::Value {
                #p::Value::Text(::core::option::Option::Some(::std::string::String::from(self.as_str())))
            }

            fn from_value(value: #p::Value) -> ::core::option::Option<Self> {
                match value {
                    #p::Value::Text(::core::option::Option::Some(text)) => ::core::str::FromStr::from_str(&text).ok(),
                    _ => ::core::option::Option::None,
                }
            }

            fn read_nullable<__R: #p::RowReader + ?::core::marker::Sized>(
                row: &mut __R,
                column: &'static str,
            ) -> ::core::result::Result<::core::option::Option<Self>, #p::DecodeError> {
                match row.text(column)? {
                    ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                    ::core::option::Option::Some(text) => ::core::str::FromStr::from_str(&text)
                        .map(::core::option::Option::Some)
                        .map_err(|_| #p::DecodeError { column, expected: "one of the choices", found: "another text" }),
                }
            }
        }

        // `Option<Self>` gets them from tenant-core's blanket impls.
        impl #p::Uniqueable for #ident {}
        impl #p::Orderable for #ident {}
        impl #p::Comparable for #ident {}

        impl #p::serde::Serialize for #ident {
            fn serialize<__S>(&self, serializer: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #p::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<__D>(deserializer: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: #p::serde::Deserializer<'de>,
            {
                struct __Visitor;

                impl<'de> #p::serde::de::Visitor<'de> for __Visitor {
                    type Value = #ident;

                    fn expecting(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        formatter.write_str(#expecting)
                    }

                    fn visit_str<__E>(self, text: &str) -> ::core::result::Result<#ident, __E>
                    where
                        __E: #p::serde::de::Error,
                    {
                        match text {
                            #(#names => ::core::result::Result::Ok(#ident::#variants),)*
                            _ => ::core::result::Result::Err(__E::unknown_variant(text, &[#(#names),*])),
                        }
                    }
                }

                deserializer.deserialize_str(__Visitor)
            }
        }
    }
}

/// After an error, the impls a resource needs from a field type, with bodies that never run,
/// so a resource using the enum does not report a second, misleading "unsupported type" error.
fn fallback(input: &DeriveInput) -> TokenStream {
    let syn::Data::Enum(_) = &input.data else { return TokenStream::new() };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let p = private();
    let ident = &input.ident;
    quote! {
        impl #ident {
            pub const fn as_str(&self) -> &'static str {
                ::core::unreachable!()
            }
        }

        impl #p::FieldValue for #ident {
            const TYPE: #p::FieldType = #p::FieldType::Choice(&[]);

            fn into_value(self) -> #p::Value {
                ::core::unreachable!()
            }

            fn from_value(_: #p::Value) -> ::core::option::Option<Self> {
                ::core::unreachable!()
            }
        }

        impl #p::Uniqueable for #ident {}
        impl #p::Orderable for #ident {}
        impl #p::Comparable for #ident {}

        impl #p::serde::Serialize for #ident {
            fn serialize<__S>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #p::serde::Serializer,
            {
                ::core::unreachable!()
            }
        }

        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<__D>(_: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: #p::serde::Deserializer<'de>,
            {
                ::core::unreachable!()
            }
        }
    }
}
