//! Policy: the single place that answers "may this principal do this (to that record)".
//!
//! Handlers ask here before they touch data; queries never decide. Refusals of a whole action
//! are 403 and say which role it needs. Refusals of one record of another organisation are 404
//! (see `error::AppError::not_found`), decided by the record-level functions below.

use crate::{auth::Principal, domain::organisation::Role, error::AppError};

/// An action on a kind of resource, decided by role alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create, rename, recode, (de)activate organisations.
    ManageOrganisations,
    /// Read the organisation directory (everyone: a school must find its Veilig Thuis).
    ReadOrganisations,
}

impl Action {
    pub const ALL: [Action; 2] = [Action::ManageOrganisations, Action::ReadOrganisations];

    /// The roles that may perform the action; `None` means every authenticated principal.
    fn roles(self) -> Option<&'static [Role]> {
        match self {
            Action::ManageOrganisations => Some(&[Role::PlatformAdmin]),
            Action::ReadOrganisations => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::ManageOrganisations => "managing organisations",
            Action::ReadOrganisations => "reading the organisation directory",
        }
    }
}

pub fn allows(principal: &Principal, action: Action) -> bool {
    match action.roles() {
        None => true,
        Some(roles) => principal.has_any(roles),
    }
}

/// `Ok` when allowed, else a 403 naming the roles the action needs.
pub fn require(principal: &Principal, action: Action) -> Result<(), AppError> {
    if allows(principal, action) {
        return Ok(());
    }
    let needed: Vec<&str> = action
        .roles()
        .unwrap_or_default()
        .iter()
        .map(|r| r.as_str())
        .collect();
    Err(AppError::forbidden(format!(
        "{} requires the role {}",
        action.describe(),
        needed.join(" or ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::OrganisationRef, domain::organisation::OrganisationKind};
    use uuid::Uuid;

    fn principal(role: Role) -> Principal {
        let kind = OrganisationKind::ALL
            .into_iter()
            .find(|k| role.fits(*k))
            .expect("every role fits some kind");
        Principal {
            sub: "p".into(),
            name: "P".into(),
            organisation: OrganisationRef {
                id: Uuid::nil(),
                kind,
                name: "Org".into(),
                active: true,
            },
            roles: vec![role],
            acting_client: None,
        }
    }

    /// Every role against every action: the matrix is the specification.
    #[test]
    fn role_action_matrix() {
        use Action::*;
        let allowed: &[(Action, &[Role])] = &[
            (ManageOrganisations, &[Role::PlatformAdmin]),
            (ReadOrganisations, &Role::ALL),
        ];
        assert_eq!(allowed.len(), Action::ALL.len());
        for (action, roles) in allowed {
            for role in Role::ALL {
                assert_eq!(
                    allows(&principal(role), *action),
                    roles.contains(&role),
                    "{role} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn refusal_names_the_needed_role() {
        let err = require(&principal(Role::OrgAdmin), Action::ManageOrganisations).unwrap_err();
        assert_eq!(err.status.as_u16(), 403);
        assert!(err.detail.contains("platform_admin"), "{}", err.detail);
    }
}
