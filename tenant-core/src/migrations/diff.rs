//! What changed between the recorded schema and the models, as Django's autodetector sees it:
//! operations a migration can run, or refusals that say what to write instead.
//!
//! Nothing is guessed: a column that disappeared is a drop (refused unless drops are allowed),
//! never a rename; a rename is declared on the field (`#[field(renamed_from = "old")]`). A change
//! of storage type, or making a nullable column required, is refused: the data may not fit, so
//! the app writes that step by hand.

use super::state::{ColumnState, SchemaState, TableState};

/// One step of a generated migration.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// A new resource: its table, indexes, foreign keys and (PostgreSQL) row-level security.
    CreateTable(TableState),
    /// A resource removed from the app (only when drops are allowed).
    DropTable(TableState),
    /// Changes to one table; `old` and `new` are its recorded and wanted states.
    AlterTable {
        /// The table before.
        old: TableState,
        /// The table after.
        new: TableState,
        /// The changes, in the order PostgreSQL runs them.
        changes: Vec<Change>,
    },
}

/// One change to an existing table.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `renamed_from = "from"` on the field now called `to`.
    RenameColumn {
        /// The recorded name.
        from: String,
        /// The field's name.
        to: String,
    },
    /// A new field: nullable, or filled with its default in the rows that exist.
    AddColumn(ColumnState),
    /// A removed field (only when drops are allowed): its data goes.
    DropColumn(ColumnState),
    /// A field that became `Option`.
    DropNotNull(String),
    /// A choice field whose choices changed.
    SetChoices(ColumnState),
    /// `unique` added.
    AddUnique(String),
    /// `unique` removed.
    DropUnique(String),
    /// A `(company_id, column)` index added (a new `filter` or reference).
    AddIndex(String),
    /// That index removed.
    DropIndex(String),
    /// A reference added: the composite foreign key to `target`.
    AddReference {
        /// The referencing column.
        column: String,
        /// The referenced table.
        target: String,
    },
    /// A reference removed.
    DropReference {
        /// The referencing column.
        column: String,
    },
}

/// What the diff may do beyond adding.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Drop the columns and tables the models no longer have (`makemigrations --allow-drop`).
    pub allow_drop: bool,
    /// Declared renames, `(table, from, to)`: `#[field(renamed_from = "from")]`.
    pub renames: Vec<(String, String, String)>,
}

/// The operations that turn `old` into `new`, or every refusal (each a sentence naming the
/// table, the column and what to do).
///
/// # Errors
///
/// The refusals: a type change, a nullable column made required, a new required column with
/// no default, a drop without [`DiffOptions::allow_drop`].
pub fn diff(old: &SchemaState, new: &SchemaState, options: &DiffOptions) -> Result<Vec<Operation>, Vec<String>> {
    let mut operations = Vec::new();
    let mut refusals = Vec::new();
    for table in &new.tables {
        match old.table(&table.table) {
            None => operations.push(Operation::CreateTable(table.clone())),
            Some(recorded) => {
                let changes = alter(recorded, table, options, &mut refusals);
                if !changes.is_empty() {
                    operations.push(Operation::AlterTable { old: recorded.clone(), new: table.clone(), changes });
                }
            }
        }
    }
    for table in old.tables.iter().filter(|t| new.table(&t.table).is_none()) {
        if options.allow_drop {
            operations.push(Operation::DropTable(table.clone()));
        } else {
            refusals.push(format!(
                "table {t}: its resource is gone; dropping the table deletes its rows. Register the resource \
                 again, or run makemigrations --allow-drop to drop it",
                t = table.table
            ));
        }
    }
    if refusals.is_empty() { Ok(operations) } else { Err(refusals) }
}

fn alter(old: &TableState, new: &TableState, options: &DiffOptions, refusals: &mut Vec<String>) -> Vec<Change> {
    let t = &new.table;
    let mut changes = Vec::new();
    let mut drops = Vec::new();
    let mut adds = Vec::new();
    let mut tail = Vec::new();
    // The recorded name of each wanted column: its own, or the one it is renamed from.
    let recorded_name = |column: &ColumnState| -> Option<String> {
        if old.column(&column.name).is_some() {
            return Some(column.name.clone());
        }
        options
            .renames
            .iter()
            .find(|(table, from, to)| table == t && *to == column.name && old.column(from).is_some())
            .map(|(_, from, _)| from.clone())
    };
    let mut kept = Vec::new();
    for column in &new.columns {
        let Some(from) = recorded_name(column) else {
            if !column.nullable && column.default.is_none() {
                refusals.push(format!(
                    "table {t}: the new field `{c}` is required and has no default, so the rows that exist \
                     have no value for it. Add `#[field(default = …)]` or make it `Option<…>`",
                    c = column.name
                ));
                continue;
            }
            adds.push(Change::AddColumn(column.clone()));
            if column.unique {
                tail.push(Change::AddUnique(column.name.clone()));
            }
            if column.index {
                tail.push(Change::AddIndex(column.name.clone()));
            }
            if let Some(target) = &column.references {
                tail.push(Change::AddReference { column: column.name.clone(), target: target.clone() });
            }
            continue;
        };
        kept.push(from.clone());
        let before = old.column(&from).expect("the recorded column exists");
        if from != column.name {
            changes.push(Change::RenameColumn { from: from.clone(), to: column.name.clone() });
        }
        let c = &column.name;
        if before.ty != column.ty {
            refusals.push(format!(
                "table {t}: field `{c}` changed type from {} to {}; a generated migration never converts data. \
                 Write that step by hand in a migration of your own, or keep the old type",
                before.ty.name(),
                column.ty.name()
            ));
            continue;
        }
        if before.nullable && !column.nullable {
            refusals.push(format!(
                "table {t}: field `{c}` is no longer an `Option`, but rows may hold NULL in it. Fill them in a \
                 migration of your own first, or keep it `Option<…>`"
            ));
            continue;
        }
        if !before.nullable && column.nullable {
            tail.push(Change::DropNotNull(c.clone()));
        }
        if before.choices != column.choices {
            tail.push(Change::SetChoices(column.clone()));
        }
        if before.unique != column.unique {
            if column.unique {
                tail.push(Change::AddUnique(c.clone()))
            } else {
                drops.push(Change::DropUnique(c.clone()))
            }
        }
        if before.index != column.index {
            if column.index { tail.push(Change::AddIndex(c.clone())) } else { drops.push(Change::DropIndex(c.clone())) }
        }
        if before.references != column.references {
            if before.references.is_some() {
                drops.push(Change::DropReference { column: c.clone() });
            }
            if let Some(target) = &column.references {
                tail.push(Change::AddReference { column: c.clone(), target: target.clone() });
            }
        }
    }
    for column in old.columns.iter().filter(|c| !kept.contains(&c.name)) {
        if options.allow_drop {
            drops.push(Change::DropColumn(column.clone()));
        } else {
            refusals.push(format!(
                "table {t}: field `{c}` is gone; dropping its column deletes its data. If it was renamed, write \
                 `#[field(renamed_from = \"{c}\")]` on the new field; to drop it, run makemigrations --allow-drop",
                c = column.name
            ));
        }
    }
    // Constraints go before the columns they name change; new ones after the columns exist.
    let mut ordered = drops;
    ordered.extend(changes);
    ordered.extend(adds);
    ordered.extend(tail);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::state::ColumnType;

    fn column(name: &str, ty: ColumnType, nullable: bool) -> ColumnState {
        ColumnState {
            name: name.into(),
            ty,
            choices: Vec::new(),
            nullable,
            default: None,
            unique: false,
            index: false,
            references: None,
        }
    }

    fn schema(columns: Vec<ColumnState>) -> SchemaState {
        SchemaState { format: SchemaState::FORMAT, tables: vec![TableState { table: "things".into(), columns }] }
    }

    fn refusals(old: Vec<ColumnState>, new: Vec<ColumnState>) -> Vec<String> {
        diff(&schema(old), &schema(new), &DiffOptions::default()).unwrap_err()
    }

    #[test]
    fn the_same_schema_needs_nothing() {
        let s = schema(vec![column("a", ColumnType::Text, false)]);
        assert_eq!(diff(&s, &s, &DiffOptions::default()), Ok(vec![]));
        assert_eq!(
            diff(&SchemaState::empty(), &s, &DiffOptions::default()),
            Ok(vec![Operation::CreateTable(s.tables[0].clone())])
        );
    }

    #[test]
    fn what_could_lose_or_invent_data_is_refused_with_the_fix() {
        let r = refusals(vec![column("a", ColumnType::I32, false)], vec![column("a", ColumnType::Text, false)]);
        assert!(r[0].contains("field `a` changed type from i32 to text") && r[0].contains("by hand"), "{r:?}");
        let r = refusals(vec![column("a", ColumnType::Text, true)], vec![column("a", ColumnType::Text, false)]);
        assert!(r[0].contains("no longer an `Option`"), "{r:?}");
        let r = refusals(vec![], vec![column("b", ColumnType::Text, false)]);
        assert!(r[0].contains("`b` is required and has no default") && r[0].contains("default = …"), "{r:?}");
        let r = refusals(vec![column("a", ColumnType::Text, false)], vec![]);
        assert!(
            r[0].contains("`a` is gone") && r[0].contains("renamed_from") && r[0].contains("--allow-drop"),
            "{r:?}"
        );
        let r = diff(&schema(vec![]), &SchemaState::empty(), &DiffOptions::default()).unwrap_err();
        assert!(r[0].contains("table things") && r[0].contains("--allow-drop"), "{r:?}");
        // Every refusal at once, as a compiler reports every error.
        let r = refusals(
            vec![column("a", ColumnType::I32, false), column("c", ColumnType::Text, false)],
            vec![column("a", ColumnType::I64, false), column("b", ColumnType::Text, false)],
        );
        assert_eq!(r.len(), 3, "{r:?}");
    }

    #[test]
    fn renames_are_declared_never_guessed() {
        let old = schema(vec![column("old", ColumnType::Text, true)]);
        let new = schema(vec![column("new", ColumnType::Text, true)]);
        let dropped = diff(&old, &new, &DiffOptions { allow_drop: true, renames: vec![] }).unwrap();
        let Operation::AlterTable { changes, .. } = &dropped[0] else { panic!("{dropped:?}") };
        assert!(matches!(changes[..], [Change::DropColumn(_), Change::AddColumn(_)]), "{changes:?}");
        let renames = vec![("things".into(), "old".into(), "new".into())];
        let renamed = diff(&old, &new, &DiffOptions { allow_drop: false, renames: renames.clone() }).unwrap();
        let Operation::AlterTable { changes, .. } = &renamed[0] else { panic!("{renamed:?}") };
        assert_eq!(changes, &[Change::RenameColumn { from: "old".into(), to: "new".into() }]);
        // Once applied, the declaration is harmless.
        assert_eq!(diff(&new, &new, &DiffOptions { allow_drop: false, renames }), Ok(vec![]));
    }

    #[test]
    fn constraints_are_dropped_before_and_added_after_the_columns() {
        let mut unique = column("a", ColumnType::Text, false);
        unique.unique = true;
        let mut referencing = column("b", ColumnType::Uuid, true);
        referencing.references = Some("others".into());
        let old = schema(vec![unique.clone()]);
        let new = schema(vec![column("a", ColumnType::Text, false), referencing]);
        let ops = diff(&old, &new, &DiffOptions::default()).unwrap();
        let Operation::AlterTable { changes, .. } = &ops[0] else { panic!("{ops:?}") };
        assert!(matches!(changes[0], Change::DropUnique(_)), "{changes:?}");
        assert!(matches!(changes[1], Change::AddColumn(_)), "{changes:?}");
        assert!(matches!(changes[2], Change::AddReference { .. }), "{changes:?}");
    }
}
