// The typed list-query builder checks each condition against the field's type.
use tenant_core::{ListQuery, tenant_resource};

#[tenant_resource(table = "tasks")]
pub struct Task {
    pub title: String,
    pub due_on: Option<chrono::NaiveDate>,
}

fn main() {
    let _ = ListQuery::default().filter(Task::TITLE.eq(5));
    let _ = ListQuery::default().filter(Task::TITLE.is_null(true));
    let _ = ListQuery::default().filter(Task::DUE_ON.eq(chrono::NaiveDate::MIN));
    let _ = ListQuery::default().filter(Task::DONE.eq(true));
}
