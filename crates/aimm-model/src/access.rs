//! Who may do what: the one role → permission table of DESIGN.md, shared by every interface that
//! accepts a write (HTTP today; MQTT and OPC UA map their identities onto the same roles). It is
//! written once, here, so an interface cannot grow a rule of its own.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything and runs assessments; never writes to a machine.
    Assessor,
    /// Reads; acknowledges events; feed hold and release; pauses and resumes a loop.
    Operator,
    /// The operator's rights, and changes loop parameters and modes, approves or rejects
    /// proposals, releases NC program versions.
    Engineer,
    /// Reads; manages users, keys and connections. Not a machine role: an admin does not act on
    /// machines or loops (give the same person an engineer token for that).
    Admin,
}

/// Every role, in the order tables list them.
pub const ROLES: [Role; 4] = [Role::Assessor, Role::Operator, Role::Engineer, Role::Admin];

/// One thing a request may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read machines, signals, runs, programs, schedules, the ledger and reports.
    Read,
    /// Run an assessment of the stored evidence.
    Assess,
    /// Pause or resume a closed loop on a machine (the operator's panel always wins).
    PauseLoop,
    /// Change a closed loop's control parameters or its mode (advise / auto).
    ChangeParameters,
    /// Approve or reject a loop's proposal (an NC program version), releasing it to the machine.
    ApproveProposal,
    /// Add, list and revoke users.
    ManageUsers,
}

/// Every permission, in the order tables list them.
pub const PERMISSIONS: [Permission; 6] = [
    Permission::Read,
    Permission::Assess,
    Permission::PauseLoop,
    Permission::ChangeParameters,
    Permission::ApproveProposal,
    Permission::ManageUsers,
];

/// The table: what each role may do. Nothing outside it is allowed.
const TABLE: [(Role, &[Permission]); 4] = [
    (Role::Assessor, &[Permission::Read, Permission::Assess]),
    (Role::Operator, &[Permission::Read, Permission::PauseLoop]),
    (
        Role::Engineer,
        &[
            Permission::Read,
            Permission::Assess,
            Permission::PauseLoop,
            Permission::ChangeParameters,
            Permission::ApproveProposal,
        ],
    ),
    (
        Role::Admin,
        &[
            Permission::Read,
            Permission::Assess,
            Permission::ManageUsers,
        ],
    ),
];

impl Role {
    /// Whether this role may do `permission`.
    pub fn may(self, permission: Permission) -> bool {
        TABLE
            .iter()
            .find(|(role, _)| *role == self)
            .is_some_and(|(_, allowed)| allowed.contains(&permission))
    }

    /// The role's name, as tokens, the ledger and the command line spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Assessor => "assessor",
            Role::Operator => "operator",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ROLES
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::UnknownName::new("role", s, ROLES.map(Role::as_str)))
    }
}

impl Permission {
    /// The permission's name, as the API's error messages and documentation spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Assess => "assess",
            Permission::PauseLoop => "pause_loop",
            Permission::ChangeParameters => "change_parameters",
            Permission::ApproveProposal => "approve_proposal",
            Permission::ManageUsers => "manage_users",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_design_md() {
        // The assessor never writes; the engineer has every operator right; admin manages users
        // only.
        for p in PERMISSIONS {
            if Role::Operator.may(p) {
                assert!(Role::Engineer.may(p), "{p:?}");
            }
        }
        assert!(!Role::Assessor.may(Permission::PauseLoop));
        assert!(!Role::Assessor.may(Permission::ApproveProposal));
        assert!(!Role::Operator.may(Permission::ChangeParameters));
        assert!(!Role::Admin.may(Permission::ApproveProposal));
        assert!(Role::Admin.may(Permission::ManageUsers));
        assert!(!Role::Engineer.may(Permission::ManageUsers));
        for r in ROLES {
            assert!(r.may(Permission::Read));
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        let err = "root".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("root") && err.contains("engineer"), "{err}");
    }
}
