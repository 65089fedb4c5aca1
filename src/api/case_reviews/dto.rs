//! A case review as the two sides see it: the review, the caller's own part, and the other
//! side's part only once the review is released.

use poem_openapi::{Object, types::Example};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        organisations::OrganisationSummary,
        types::{Timestamp, example_id, example_time},
    },
    auth::policy,
    db::case_reviews::{CaseReview as Stored, Part},
    domain::{
        case_review::{ChronologyEntry, ChronologyEvent, ReviewStatus, Side, Theme},
        organisation::OrganisationKind,
    },
};

/// Propose a case review of a closed report.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProposeCaseReview {
    /// The report (a handoff of kind `report`, status `closed`) your school sent or your
    /// Veilig Thuis received.
    pub handoff_id: Uuid,
}

impl Example for ProposeCaseReview {
    fn example() -> Self {
        Self {
            handoff_id: example_id(40),
        }
    }
}

/// A side's reflections: what went well, what could be better, and the themes it touches.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteReflections {
    /// What went well. Roles, not names: a valid BSN or a registered child's full name is 422
    /// `not-anonymous`.
    #[oai(validator(max_length = 4000), skip_serializing_if_is_none)]
    pub went_well: Option<String>,
    /// What could be better, under the same rule.
    #[oai(validator(max_length = 4000), skip_serializing_if_is_none)]
    pub could_be_better: Option<String>,
    /// Themes from the reference list `review-themes`.
    #[oai(validator(max_items = 5, unique_items = true), default)]
    #[serde(default)]
    pub themes: Vec<Theme>,
}

impl Example for WriteReflections {
    fn example() -> Self {
        Self {
            went_well: Some(
                "De intern begeleider belde de dag na de melding met de casusregisseur.".into(),
            ),
            could_be_better: Some(
                "De school hoorde pas na zes weken dat ouders om toestemming was gevraagd.".into(),
            ),
            themes: vec![Theme::Feedback, Theme::ChildAtSchool],
        }
    }
}

/// A line of the pseudonymised chronology.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ChronologyLine {
    /// Days relative to the report (its date in the Netherlands: day 0).
    pub day: i64,
    pub event: ChronologyEvent,
    /// A code: the signal's category, the meldcode step, the report's status, the feedback's
    /// category, the consent's purpose or answer.
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<String>,
    /// A role or a side (`teacher`, `care_coordinator`, `veilig_thuis`, `guardian`…), never a
    /// person.
    #[oai(skip_serializing_if_is_none)]
    pub by: Option<String>,
}

/// One side's part.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ReviewPart {
    pub side: Side,
    pub organisation: OrganisationSummary,
    /// Generated from the side's own records when the review was agreed.
    pub chronology: Vec<ChronologyLine>,
    #[oai(skip_serializing_if_is_none)]
    pub went_well: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub could_be_better: Option<String>,
    pub themes: Vec<Theme>,
    /// When the side released it; absent while it may still change.
    #[oai(skip_serializing_if_is_none)]
    pub released_at: Option<Timestamp>,
}

/// A joint case review (casusbespreking) of a closed report.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CaseReview {
    pub id: Uuid,
    /// The report reviewed.
    pub handoff_id: Uuid,
    pub status: ReviewStatus,
    pub school: OrganisationSummary,
    pub veilig_thuis: OrganisationSummary,
    /// Your side.
    pub your_side: Side,
    pub proposed_by: Side,
    pub proposed_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    pub answered_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub withdrawn_at: Option<Timestamp>,
    /// When both parts were released.
    #[oai(skip_serializing_if_is_none)]
    pub released_at: Option<Timestamp>,
    /// Your part once the review is agreed; the other side's too once it is released.
    pub parts: Vec<ReviewPart>,
}

/// A page of your organisation's case reviews, newest first.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CaseReviewPage {
    pub items: Vec<CaseReview>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl Example for CaseReviewPage {
    fn example() -> Self {
        Self {
            items: vec![CaseReview::example()],
            next_cursor: None,
        }
    }
}

fn summary(id: Uuid, kind: OrganisationKind, name: &str) -> OrganisationSummary {
    OrganisationSummary {
        id,
        kind,
        name: name.to_owned(),
    }
}

impl Example for CaseReview {
    fn example() -> Self {
        let school = summary(
            example_id(1),
            OrganisationKind::School,
            "Basisschool De Regenboog",
        );
        Self {
            id: example_id(50),
            handoff_id: example_id(40),
            status: ReviewStatus::Agreed,
            school: summary(school.id, school.kind, &school.name),
            veilig_thuis: summary(
                example_id(3),
                OrganisationKind::VeiligThuis,
                "Veilig Thuis Utrecht",
            ),
            your_side: Side::School,
            proposed_by: Side::School,
            proposed_at: example_time(),
            answered_at: Some(example_time()),
            withdrawn_at: None,
            released_at: None,
            parts: vec![ReviewPart {
                side: Side::School,
                organisation: school,
                chronology: vec![
                    ChronologyLine {
                        day: -23,
                        event: ChronologyEvent::SignalRecorded,
                        code: Some("injury".into()),
                        by: Some("teacher".into()),
                    },
                    ChronologyLine {
                        day: 0,
                        event: ChronologyEvent::ReportSent,
                        code: None,
                        by: Some("school".into()),
                    },
                    ChronologyLine {
                        day: 4,
                        event: ChronologyEvent::Feedback,
                        code: Some("safety_assessment_decided".into()),
                        by: Some("veilig_thuis".into()),
                    },
                ],
                went_well: None,
                could_be_better: None,
                themes: Vec::new(),
                released_at: None,
            }],
        }
    }
}

/// The organisations of the review, for rendering.
pub struct Sides<'a> {
    pub school: &'a OrganisationSummary,
    pub veilig_thuis: &'a OrganisationSummary,
}

fn copy(o: &OrganisationSummary) -> OrganisationSummary {
    summary(o.id, o.kind, &o.name)
}

/// The review as `side` may see it: its own part once agreed, the other's once released.
pub fn render(review: &Stored, parts: &[Part], sides: &Sides<'_>, side: Side) -> CaseReview {
    let visible = |part: &&Part| policy::sees_review_part(review.status, side, part.side);
    CaseReview {
        id: review.id,
        handoff_id: review.handoff_id,
        status: review.status,
        school: copy(sides.school),
        veilig_thuis: copy(sides.veilig_thuis),
        your_side: side,
        proposed_by: review.proposed_by(),
        proposed_at: review.proposed_at.into(),
        answered_at: review.answered_at.map(Into::into),
        withdrawn_at: review.withdrawn_at.map(Into::into),
        released_at: review.released_at.map(Into::into),
        parts: parts
            .iter()
            .filter(visible)
            .map(|part| ReviewPart {
                side: part.side,
                organisation: copy(match part.side {
                    Side::School => sides.school,
                    Side::VeiligThuis => sides.veilig_thuis,
                }),
                chronology: serde_json::from_value::<Vec<ChronologyEntry>>(part.chronology.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| ChronologyLine {
                        day: e.day,
                        event: e.event,
                        code: e.code,
                        by: e.by,
                    })
                    .collect(),
                went_well: part.went_well.clone(),
                could_be_better: part.could_be_better.clone(),
                themes: part.themes(),
                released_at: part.released_at.map(Into::into),
            })
            .collect(),
    }
}
