//! A child and its guardians as the caller may see them.

use uuid::Uuid;

use super::{
    CHILD, GUARDIAN,
    dto::{Child, Contact, Guardian, LifecycleStatus, TimelineItem},
};
use crate::{
    api::shared::{Professional, ResourceLink},
    auth::{Principal, policy},
    db::children as queries,
    db::timeline::StoredEntry,
    domain::{calendar::dutch_today, lifecycle::Hold},
};

pub fn render_guardian(row: &queries::Guardian) -> Guardian {
    Guardian {
        id: row.id,
        name: row.name.clone(),
        relationship: row.relationship,
        parental_authority: row.parental_authority,
        authority_source: row.authority_source,
        contact: Contact {
            phone: row.phone.clone(),
            email: row.email.clone(),
        },
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

/// The child as this principal may see it: without the BSN for non-casework roles; the
/// lifecycle flags for casework roles only.
pub fn render_child(
    principal: &Principal,
    row: &queries::Child,
    guardians: &[queries::Guardian],
    flags: queries::LifecycleFlags,
) -> Child {
    Child {
        id: row.id,
        external_ref: row.external_ref.clone(),
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        date_of_birth: row.date_of_birth,
        bsn: row.bsn.clone().filter(|_| policy::may_see_bsn(principal)),
        school_group: row.school_group.clone(),
        guardians: guardians
            .iter()
            .filter(|g| g.child_id == row.id)
            .map(render_guardian)
            .collect(),
        left_on: row.left_on,
        care_ended_on: row.care_ended_on,
        lifecycle: render_lifecycle(principal, flags),
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

/// What casework roles see of the data lifecycle on the child; nothing for others.
fn render_lifecycle(
    principal: &Principal,
    flags: queries::LifecycleFlags,
) -> Option<LifecycleStatus> {
    policy::may_see_lifecycle_status(principal).then(|| LifecycleStatus {
        legal_hold: flags
            .hold
            .is_some_and(|until| Hold { until }.is_active(dutch_today())),
        destruction_requested: flags.destruction_requested,
    })
}

/// A timeline entry as the API shows it.
pub fn render_timeline_item(row: StoredEntry, child: Uuid) -> TimelineItem {
    TimelineItem {
        id: row.id,
        occurred_at: row.occurred_at.into(),
        actor: Professional {
            sub: row.actor_sub,
            name: row.actor_name,
        },
        summary: row.summary,
        resource: ResourceLink::new(
            &row.resource_type,
            row.resource_id,
            resource_href(&row.resource_type, row.resource_id, child),
        ),
        entry_type: row.entry_type,
    }
}

/// Where a timeline entry's resource lives.
pub fn resource_href(resource_type: &str, resource_id: Uuid, child: Uuid) -> String {
    match resource_type {
        CHILD => format!("/v1/children/{resource_id}"),
        GUARDIAN => format!("/v1/children/{child}/guardians/{resource_id}"),
        "signal" => format!("/v1/signals/{resource_id}"),
        other => format!("/v1/{other}s/{resource_id}"),
    }
}
