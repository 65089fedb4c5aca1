//! What clients send and receive about children and guardians, with the spec's examples, and
//! how requests become the domain's.

use chrono::NaiveDate;
use poem_openapi::{
    ApiResponse, Object,
    payload::Json,
    types::{Example, MaybeUndefined},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        shared::{Professional, ResourceLink},
        types::{Timestamp, example_time},
    },
    db::children as queries,
    domain::child::{
        AuthoritySource, ChildCorrection, ChildDetails, GuardianDetails, ParentalAuthority,
        Relationship,
    },
};

/// A child (pupil or client) of the caller's organisation.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Child {
    pub id: Uuid,
    /// The organisation's own pupil or client number (unique within the organisation).
    pub external_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    /// Burgerservicenummer, when the organisation holds it; shown to casework roles only.
    #[oai(skip_serializing_if_is_none)]
    pub bsn: Option<String>,
    /// Class or group, e.g. `groep 6b`.
    #[oai(skip_serializing_if_is_none)]
    pub school_group: Option<String>,
    pub guardians: Vec<Guardian>,
    /// A school: the day the pupil left.
    #[oai(skip_serializing_if_is_none)]
    pub left_on: Option<NaiveDate>,
    /// Youth care and Veilig Thuis: the day care (involvement) ended.
    #[oai(skip_serializing_if_is_none)]
    pub care_ended_on: Option<NaiveDate>,
    /// For casework roles: whether a legal hold or an undecided destruction request is on the
    /// child (the privacy officer has the details); absent for other roles.
    #[oai(skip_serializing_if_is_none)]
    pub lifecycle: Option<LifecycleStatus>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What casework roles see of the data lifecycle on a child they may read.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(rename_all = "camelCase")]
pub struct LifecycleStatus {
    /// A legal hold blocks purging and destroying the child's records.
    pub legal_hold: bool,
    /// A destruction request waits for the privacy officer's decision.
    pub destruction_requested: bool,
}

impl Example for Child {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101),
            external_ref: "LL-20431".into(),
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2013, 4, 2).unwrap_or_default(),
            bsn: Some("111222333".into()),
            school_group: Some("groep 8a".into()),
            guardians: vec![Guardian::example()],
            left_on: None,
            care_ended_on: None,
            lifecycle: Some(LifecycleStatus {
                legal_hold: false,
                destruction_requested: false,
            }),
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// A parent or other guardian of a child.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Guardian {
    pub id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    /// Whether this guardian has parental authority (gezag).
    pub parental_authority: ParentalAuthority,
    /// How parental authority was established.
    pub authority_source: AuthoritySource,
    pub contact: Contact,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Example for Guardian {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0201),
            name: "Sarah de Boer".into(),
            relationship: Relationship::Mother,
            parental_authority: ParentalAuthority::Yes,
            authority_source: AuthoritySource::Gezagsregister,
            contact: Contact {
                phone: Some("+31 6 1234 5678".into()),
                email: None,
            },
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// How to reach a guardian.
#[derive(Object, Deserialize, serde::Serialize, Default, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    #[oai(validator(max_length = 30), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[oai(validator(max_length = 254), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A new child.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChild {
    /// The organisation's own pupil or client number; unique within the organisation.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub external_ref: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    pub given_name: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    pub family_name: String,
    /// Not in the future, at most 23 years ago.
    pub date_of_birth: NaiveDate,
    /// Nine digits passing the 11-proef. Optional: hold it only for statutory use.
    #[oai(validator(pattern = "^[0-9]{9}$"), skip_serializing_if_is_none)]
    pub bsn: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 50),
        skip_serializing_if_is_none
    )]
    pub school_group: Option<String>,
    /// Guardians to register with the child.
    #[oai(default, validator(max_items = 10), skip_serializing_if_is_empty)]
    #[serde(default)]
    pub guardians: Vec<CreateGuardian>,
}

impl Example for CreateChild {
    fn example() -> Self {
        Self {
            external_ref: "LL-20431".into(),
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2013, 4, 2).unwrap_or_default(),
            bsn: None,
            school_group: Some("groep 8a".into()),
            guardians: vec![CreateGuardian::example()],
        }
    }
}

/// Corrections to a child's data; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateChild {
    #[oai(
        validator(min_length = 1, max_length = 64),
        skip_serializing_if_is_none
    )]
    pub external_ref: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 100),
        skip_serializing_if_is_none
    )]
    pub given_name: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 100),
        skip_serializing_if_is_none
    )]
    pub family_name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub date_of_birth: Option<NaiveDate>,
    /// `null` removes it.
    #[oai(validator(pattern = "^[0-9]{9}$"), skip_serializing_if_is_none)]
    #[serde(default)]
    pub bsn: MaybeUndefined<String>,
    /// `null` removes it.
    #[oai(
        validator(min_length = 1, max_length = 50),
        skip_serializing_if_is_none
    )]
    #[serde(default)]
    pub school_group: MaybeUndefined<String>,
    /// A school: the day the pupil left the school. The pupil's records are purged two years
    /// later (see the README's data lifecycle); `null` clears it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub left_on: MaybeUndefined<NaiveDate>,
    /// Youth care and Veilig Thuis: the day care (involvement) ended; retention counts from
    /// it. `null` clears it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub care_ended_on: MaybeUndefined<NaiveDate>,
}

impl Example for UpdateChild {
    fn example() -> Self {
        Self {
            external_ref: None,
            given_name: Some("Noah Jan".into()),
            family_name: None,
            date_of_birth: None,
            bsn: MaybeUndefined::Undefined,
            school_group: MaybeUndefined::Value("groep 8b".into()),
            left_on: MaybeUndefined::Undefined,
            care_ended_on: MaybeUndefined::Undefined,
        }
    }
}

/// A new guardian.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGuardian {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    pub relationship: Relationship,
    /// `unknown` blocks consent until it is verified.
    pub parental_authority: ParentalAuthority,
    /// `unknown` exactly when parentalAuthority is `unknown`.
    pub authority_source: AuthoritySource,
    #[oai(skip_serializing_if_is_none)]
    pub contact: Option<Contact>,
}

impl Example for CreateGuardian {
    fn example() -> Self {
        Self {
            name: "Sarah de Boer".into(),
            relationship: Relationship::Mother,
            parental_authority: ParentalAuthority::Yes,
            authority_source: AuthoritySource::Gezagsregister,
            contact: Some(Contact {
                phone: Some("+31 6 1234 5678".into()),
                email: None,
            }),
        }
    }
}

/// Corrections to a guardian; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGuardian {
    #[oai(
        validator(min_length = 1, max_length = 200),
        skip_serializing_if_is_none
    )]
    pub name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub relationship: Option<Relationship>,
    #[oai(skip_serializing_if_is_none)]
    pub parental_authority: Option<ParentalAuthority>,
    #[oai(skip_serializing_if_is_none)]
    pub authority_source: Option<AuthoritySource>,
    /// Replaces the contact details; `null` removes them.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub contact: MaybeUndefined<Contact>,
}

impl Example for UpdateGuardian {
    fn example() -> Self {
        Self {
            name: None,
            relationship: None,
            parental_authority: Some(ParentalAuthority::Yes),
            authority_source: Some(AuthoritySource::Gezagsregister),
            contact: MaybeUndefined::Undefined,
        }
    }
}

/// A page of children.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ChildPage {
    pub items: Vec<Child>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One entry of a child's chronology.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct TimelineItem {
    pub id: Uuid,
    /// What happened, e.g. `signal.recorded`, `guardian.added`.
    #[oai(rename = "type")]
    pub entry_type: String,
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Professional,
    /// A short description, without the record's free text.
    pub summary: String,
    /// The record it is about.
    pub resource: ResourceLink,
}

impl Example for TimelineItem {
    fn example() -> Self {
        let id = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0301);
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0401),
            entry_type: "signal.recorded".into(),
            occurred_at: example_time(),
            actor: Professional {
                sub: "leerkracht-sanne".into(),
                name: "Sanne de Vries".into(),
            },
            summary: "Signal recorded: Statements by the child (raises concern)".into(),
            resource: ResourceLink::new("signal", id, format!("/v1/signals/{id}")),
        }
    }
}

/// A page of a child's timeline, newest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateChildResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(
        Json<Child>,
        /// Where the child lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ListChildrenResponse {
    /// Children in registration order (or the one with `externalRef`).
    #[oai(status = 200)]
    Ok(Json<ChildPage>),
}

#[derive(ApiResponse)]
pub enum GetChildResponse {
    /// The child, with guardians.
    #[oai(status = 200)]
    Ok(Json<Child>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum UpdateChildResponse {
    /// Corrected.
    #[oai(status = 200)]
    Ok(Json<Child>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum CreateGuardianResponse {
    /// Added.
    #[oai(status = 201)]
    Created(
        Json<Guardian>,
        /// Where the guardian lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum GetGuardianResponse {
    /// The guardian.
    #[oai(status = 200)]
    Ok(Json<Guardian>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum UpdateGuardianResponse {
    /// Corrected.
    #[oai(status = 200)]
    Ok(Json<Guardian>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum TimelineResponse {
    /// The chronology, newest first.
    #[oai(status = 200)]
    Ok(Json<TimelinePage>),
}

impl CreateGuardian {
    pub fn details(&self) -> GuardianDetails {
        let contact = self.contact.clone().unwrap_or_default();
        GuardianDetails {
            name: self.name.clone(),
            relationship: self.relationship,
            parental_authority: self.parental_authority,
            authority_source: self.authority_source,
            phone: contact.phone,
            email: contact.email,
        }
    }
}

impl CreateChild {
    pub fn details<'a>(&'a self, guardians: &'a [GuardianDetails]) -> ChildDetails<'a> {
        ChildDetails {
            external_ref: &self.external_ref,
            given_name: &self.given_name,
            family_name: &self.family_name,
            date_of_birth: self.date_of_birth,
            bsn: self.bsn.as_deref(),
            guardians,
        }
    }
}

impl UpdateChild {
    pub fn correction(&self) -> ChildCorrection<'_> {
        ChildCorrection {
            external_ref: self.external_ref.as_deref(),
            given_name: self.given_name.as_deref(),
            family_name: self.family_name.as_deref(),
            date_of_birth: self.date_of_birth,
            bsn: maybe(&self.bsn),
            school_group: maybe(&self.school_group),
            left_on: maybe_date(&self.left_on),
            care_ended_on: maybe_date(&self.care_ended_on),
        }
    }

    pub fn changes(&self) -> queries::ChildChanges {
        let owned = |v: &MaybeUndefined<String>| maybe(v).map(|v| v.map(str::to_owned));
        queries::ChildChanges {
            external_ref: self.external_ref.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            date_of_birth: self.date_of_birth,
            bsn: owned(&self.bsn),
            school_group: owned(&self.school_group),
            left_on: maybe_date(&self.left_on),
            care_ended_on: maybe_date(&self.care_ended_on),
        }
    }
}

impl UpdateGuardian {
    /// The guardian as it will be after the change; `contact` is replaced as a whole.
    pub fn applied_to(&self, current: &queries::Guardian) -> GuardianDetails {
        let (phone, email) = match &self.contact {
            MaybeUndefined::Undefined => (current.phone.clone(), current.email.clone()),
            MaybeUndefined::Null => (None, None),
            MaybeUndefined::Value(contact) => (contact.phone.clone(), contact.email.clone()),
        };
        GuardianDetails {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            relationship: self.relationship.unwrap_or(current.relationship),
            parental_authority: self
                .parental_authority
                .unwrap_or(current.parental_authority),
            authority_source: self.authority_source.unwrap_or(current.authority_source),
            phone,
            email,
        }
    }
}

fn maybe_date(value: &MaybeUndefined<NaiveDate>) -> Option<Option<NaiveDate>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(*v)),
    }
}

/// Absent, `null` or a value.
fn maybe(value: &MaybeUndefined<String>) -> Option<Option<&str>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
