//! `embed_migrations!`: a migrations folder as static data, each file through `include_str!`.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

pub fn embed_migrations(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: LitStr = syn::parse2(input)
        .map_err(|e| syn::Error::new(e.span(), "write the folder as a string: `embed_migrations!(\"migrations\")`"))?;
    let root = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let dir = root.join(lit.value());
    if !dir.is_dir() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "no folder {} (relative to the crate's Cargo.toml)\nhelp: run `makemigrations` first, which creates it",
                dir.display()
            ),
        ));
    }
    let postgres = dialect(&dir.join("postgres"), lit.span())?;
    let sqlite = dialect(&dir.join("sqlite"), lit.span())?;
    Ok(quote! {
        ::tenant_core::migrations::EmbeddedMigrations {
            postgres: &[#(#postgres),*],
            sqlite: &[#(#sqlite),*],
        }
    })
}

/// The files of one dialect's folder, by number; a missing folder is an empty list.
fn dialect(folder: &Path, span: Span) -> syn::Result<Vec<TokenStream>> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".sql") {
            continue;
        }
        let parsed =
            name.strip_suffix(".sql").and_then(|stem| stem.split_once('_')).and_then(|(number, description)| {
                let ok = number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit());
                ok.then(|| number.parse::<i64>().ok().map(|n| (n, description.to_string()))).flatten()
            });
        let Some((version, description)) = parsed else {
            return Err(syn::Error::new(
                span,
                format!("{}: a migration is named NNNN_name.sql, e.g. 0002_add_phone.sql", entry.path().display()),
            ));
        };
        files.push((version, description, entry.path()));
    }
    files.sort_by_key(|(version, _, _)| *version);
    if let Some(pair) = files.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(syn::Error::new(
            span,
            format!("two migrations are numbered {} in {}", pair[0].0, folder.display()),
        ));
    }
    Ok(files
        .into_iter()
        .map(|(version, description, path)| {
            let path = path.display().to_string();
            quote! {
                ::tenant_core::migrations::EmbeddedMigration { version: #version, description: #description, sql: ::core::include_str!(#path) }
            }
        })
        .collect())
}
