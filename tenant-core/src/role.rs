//! A member's role in a company (API.md: "Roles: `admin`, `staff`").

use serde::{Deserialize, Serialize};

/// A member's role in a company. Ordered: `Admin` may do everything `Staff` may, so a check
/// is `role >= needed` ([`Tenant::require`](crate::Tenant::require)). In JSON and in the
/// database it is `"staff"` or `"admin"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Any member: reads, and by default creates and updates tenant resources.
    Staff,
    /// Also deletes tenant resources (by default) and manages members and invitations. A
    /// company always keeps at least one (API.md: the last admin cannot leave or be demoted).
    Admin,
}

impl Role {
    /// `"staff"` or `"admin"`, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// The role named exactly `"staff"` or `"admin"`; `None` for anything else (case counts).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}
