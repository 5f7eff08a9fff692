//! Migrations generated from the models, as Django's `makemigrations` / `migrate` /
//! `showmigrations`: the schema the resources need as data ([`SchemaState`]), the diff against
//! what an app's `migrations/state.json` recorded, numbered SQL files per dialect that a person
//! reviews and commits, applied in order by sqlx's migrator, and a start-up check that the live
//! database matches the models.
//!
//! The workflow (README.md, "Changing a model"): edit the struct → `makemigrations` → review and
//! commit `migrations/` → `migrate`. An app registers its folder with
//! [`App::migrations`](crate::App::migrations) and
//! [`embed_migrations!`](crate::embed_migrations); an app without one (a test's throwaway
//! resources) gets its tables created from the models, as Django does for an app without
//! migrations.

pub mod apply;
pub mod diff;
pub mod drift;
pub mod files;
pub mod render;
pub mod state;

pub use apply::{EmbeddedMigration, EmbeddedMigrations, MIGRATIONS_TABLE, MigrationProgress, MigrationStatus};
pub use diff::{Change, DiffOptions, Operation};
pub use files::{MakeMigrationsError, Written, make_migrations};
pub use state::{ColumnState, ColumnType, SchemaState, TableState};
