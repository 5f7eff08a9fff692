// Route selection: `read_only`, `actions = "…"` in any order, and roles of the writes served.
use tenant_core::{Actions, Resource, Role, tenant_resource};

/// DRF's `ReadOnlyModelViewSet`.
#[tenant_resource(read_only)]
pub struct Rate {
    pub label: String,
}

#[tenant_resource(actions = "create, list", create = "admin")]
pub struct Report {
    pub title: String,
}

#[tenant_resource(actions = "partial_update,retrieve", update = "admin")]
pub struct Setting {
    pub value: String,
}

#[tenant_resource(actions = "destroy", delete = "staff")]
pub struct Upload {
    pub name: String,
}

/// Every action named is the default, all six.
#[tenant_resource(actions = "list, create, retrieve, update, partial_update, destroy")]
pub struct Tag {
    pub name: String,
}

fn main() {
    assert_eq!(<Rate as Resource>::DESC.actions, Actions::READ_ONLY);
    let report = <Report as Resource>::DESC;
    assert_eq!(
        report.actions,
        Actions { list: true, create: true, retrieve: false, update: false, partial_update: false, destroy: false }
    );
    assert!(report.actions.serves_collection() && !report.actions.serves_item());
    assert_eq!(report.permissions.create, Role::Admin);
    let setting = <Setting as Resource>::DESC;
    assert_eq!(
        setting.actions,
        Actions { list: false, create: false, retrieve: true, update: false, partial_update: true, destroy: false }
    );
    assert!(!setting.actions.serves_collection() && setting.actions.serves_item());
    assert_eq!(setting.permissions.update, Role::Admin);
    let upload = <Upload as Resource>::DESC;
    assert!(upload.actions.destroy && !upload.actions.retrieve && !upload.actions.serves_collection());
    assert_eq!(upload.permissions.delete, Role::Staff);
    assert_eq!(<Tag as Resource>::DESC.actions, Actions::ALL);
    // The routers build: a resource serving one path, or one method.
    let _ = (Rate::router(), Report::router(), Setting::router(), Upload::router(), Tag::router());
}
