//! Reference data: the enumerations of the API with Dutch and English labels. Public: it holds
//! no personal data, and integrators need it before they have a token.

use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
    types::Example,
};

use crate::{
    api::{
        ApiTags, etag,
        problem::{ApiResult, ReadOne},
    },
    domain::{
        child::{AuthoritySource, ParentalAuthority, Relationship},
        consent::{ConsentDecision, ConsentMethod, ConsentPurpose, ConsentStatus},
        feedback::{AssessmentOutcome, Audience, FeedbackCategory},
        handoff::{
            AgeBand, HandoffKind, HandoffStatus, LegalBasis, ParentsNotInformedReason, Urgency,
        },
        lifecycle,
        meldcode::{Answer, Decision, Question, SkipReason, Step},
        organisation::{OrganisationKind, Role},
        reference::Labelled,
        signal::{SignalCategory, SignalDirection, SignalSource},
    },
};

/// The reference lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "kebab-case")]
pub enum ReferenceList {
    SignalCategories,
    SignalSources,
    SignalDirections,
    GuardianRelationships,
    ParentalAuthority,
    AuthoritySources,
    OrganisationKinds,
    Roles,
    Answers,
    Questions,
    Decisions,
    MeldcodeSteps,
    SkipReasons,
    HandoffKinds,
    HandoffStatuses,
    LegalBases,
    AgeBands,
    Urgencies,
    ParentsNotInformedReasons,
    ConsentPurposes,
    ConsentDecisions,
    ConsentMethods,
    ConsentStatuses,
    FeedbackCategories,
    AssessmentOutcomes,
    Audiences,
    EventTypes,
    RecordClasses,
    RecordTypes,
    RequesterKinds,
    DestructionScopes,
    DestructionStatuses,
    DestructionOutcomes,
    RefusalGrounds,
    HearingOutcomes,
    WithheldReasons,
    Deadlines,
    ProposalSubjects,
    ApprovalVerdicts,
    HelpQuestions,
    PartnerRoles,
    PartnerLinkStatuses,
    TeamRoles,
    MeetingKinds,
    ReviewThemes,
    ReviewStatuses,
    ChronologyEvents,
}

impl ReferenceList {
    const ALL: [ReferenceList; 47] = [
        Self::SignalCategories,
        Self::SignalSources,
        Self::SignalDirections,
        Self::GuardianRelationships,
        Self::ParentalAuthority,
        Self::AuthoritySources,
        Self::OrganisationKinds,
        Self::Roles,
        Self::Answers,
        Self::Questions,
        Self::Decisions,
        Self::MeldcodeSteps,
        Self::SkipReasons,
        Self::HandoffKinds,
        Self::HandoffStatuses,
        Self::LegalBases,
        Self::AgeBands,
        Self::Urgencies,
        Self::ParentsNotInformedReasons,
        Self::ConsentPurposes,
        Self::ConsentDecisions,
        Self::ConsentMethods,
        Self::ConsentStatuses,
        Self::FeedbackCategories,
        Self::AssessmentOutcomes,
        Self::Audiences,
        Self::EventTypes,
        Self::RecordClasses,
        Self::RecordTypes,
        Self::RequesterKinds,
        Self::DestructionScopes,
        Self::DestructionStatuses,
        Self::DestructionOutcomes,
        Self::RefusalGrounds,
        Self::HearingOutcomes,
        Self::WithheldReasons,
        Self::Deadlines,
        Self::ProposalSubjects,
        Self::ApprovalVerdicts,
        Self::HelpQuestions,
        Self::PartnerRoles,
        Self::PartnerLinkStatuses,
        Self::TeamRoles,
        Self::MeetingKinds,
        Self::ReviewThemes,
        Self::ReviewStatuses,
        Self::ChronologyEvents,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::SignalCategories => "signal-categories",
            Self::SignalSources => "signal-sources",
            Self::SignalDirections => "signal-directions",
            Self::GuardianRelationships => "guardian-relationships",
            Self::ParentalAuthority => "parental-authority",
            Self::AuthoritySources => "authority-sources",
            Self::OrganisationKinds => "organisation-kinds",
            Self::Roles => "roles",
            Self::Answers => "answers",
            Self::Questions => "questions",
            Self::Decisions => "decisions",
            Self::MeldcodeSteps => "meldcode-steps",
            Self::SkipReasons => "skip-reasons",
            Self::HandoffKinds => "handoff-kinds",
            Self::HandoffStatuses => "handoff-statuses",
            Self::LegalBases => "legal-bases",
            Self::AgeBands => "age-bands",
            Self::Urgencies => "urgencies",
            Self::ParentsNotInformedReasons => "parents-not-informed-reasons",
            Self::ConsentPurposes => "consent-purposes",
            Self::ConsentDecisions => "consent-decisions",
            Self::ConsentMethods => "consent-methods",
            Self::ConsentStatuses => "consent-statuses",
            Self::FeedbackCategories => "feedback-categories",
            Self::AssessmentOutcomes => "assessment-outcomes",
            Self::Audiences => "audiences",
            Self::EventTypes => "event-types",
            Self::RecordClasses => "record-classes",
            Self::RecordTypes => "record-types",
            Self::RequesterKinds => "requester-kinds",
            Self::DestructionScopes => "destruction-scopes",
            Self::DestructionStatuses => "destruction-statuses",
            Self::DestructionOutcomes => "destruction-outcomes",
            Self::RefusalGrounds => "refusal-grounds",
            Self::HearingOutcomes => "hearing-outcomes",
            Self::WithheldReasons => "withheld-reasons",
            Self::Deadlines => "deadlines",
            Self::ProposalSubjects => "proposal-subjects",
            Self::ApprovalVerdicts => "approval-verdicts",
            Self::HelpQuestions => "help-questions",
            Self::PartnerRoles => "partner-roles",
            Self::PartnerLinkStatuses => "partner-link-statuses",
            Self::TeamRoles => "team-roles",
            Self::MeetingKinds => "meeting-kinds",
            Self::ReviewThemes => "review-themes",
            Self::ReviewStatuses => "review-statuses",
            Self::ChronologyEvents => "chronology-events",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::SignalCategories => "Signal `category`: the kinds of signals of unsafety.",
            Self::SignalSources => "Signal `source`: where a signal came from.",
            Self::SignalDirections => "Signal `direction`: raises or reduces concern.",
            Self::GuardianRelationships => "Guardian `relationship`.",
            Self::ParentalAuthority => "Guardian `parentalAuthority` (gezag).",
            Self::AuthoritySources => "Guardian `authoritySource`: how authority was established.",
            Self::OrganisationKinds => "Organisation `kind`.",
            Self::Roles => "Token `roles`.",
            Self::Answers => "Answers to the afwegingsvragen.",
            Self::Questions => "The five afwegingsvragen of the afwegingskader.",
            Self::Decisions => "Meldcode step 5 `decision`.",
            Self::MeldcodeSteps => "The five steps of the meldcode.",
            Self::SkipReasons => "Why a conversation (step 3) was skipped.",
            Self::HandoffKinds => "Handoff `kind`.",
            Self::HandoffStatuses => "Handoff `status`.",
            Self::LegalBases => "The legal basis of a disclosure.",
            Self::AgeBands => "Age band of an anonymous advice request.",
            Self::Urgencies => "Handoff `urgency`.",
            Self::ParentsNotInformedReasons => "Why the parents were not told of a report.",
            Self::ConsentPurposes => "Consent `purpose`.",
            Self::ConsentDecisions => "A party's consent `decision`.",
            Self::ConsentMethods => "How a party's decision was given (`method`).",
            Self::ConsentStatuses => "Consent `status`.",
            Self::FeedbackCategories => {
                "Feedback `category`: status ones need no consent, the rest do."
            }
            Self::AssessmentOutcomes => {
                "Veilig Thuis's decision after the safety assessment (`outcome`)."
            }
            Self::Audiences => "Who at the school may read a feedback item (`audience`).",
            Self::EventTypes => "Event `type` in the feed and in webhooks.",
            Self::RecordClasses => "Retention's record classes (`GET /v1/retention/due`).",
            Self::RecordTypes => "A record named in a destruction request (`records[].type`).",
            Self::RequesterKinds => "Who asks for destruction (`requester`).",
            Self::DestructionScopes => "What a destruction request asks (`scope`).",
            Self::DestructionStatuses => "Destruction request `status`.",
            Self::DestructionOutcomes => {
                "The privacy officer's `decision` on a destruction request."
            }
            Self::RefusalGrounds => {
                "The grounds a destruction request may be refused on (`refusalGround`)."
            }
            Self::HearingOutcomes => "Whether the other guardian was heard (`hearing.outcome`).",
            Self::WithheldReasons => {
                "Why a subject-access export withholds something (`withheld[].reason`)."
            }
            Self::Deadlines => "A handoff's deadlines (`overdueDeadlines[].deadline`).",
            Self::ProposalSubjects => {
                "What a four-eyes proposal on a case would do (`proposals[].subject`)."
            }
            Self::ApprovalVerdicts => {
                "A second professional's verdict on a proposal (`proposals[].verdict`)."
            }
            Self::HelpQuestions => {
                "The help questions (hulpvragen) on the sociale kaart (`helpQuestions`, `?question=`)."
            }
            Self::PartnerRoles => "A partner link's `role` in the school's care structure.",
            Self::PartnerLinkStatuses => "A partner link's `status`.",
            Self::TeamRoles => "A kernteam member's `teamRole`.",
            Self::MeetingKinds => "A kernteam meeting's `kind`.",
            Self::ReviewThemes => "A case review's `themes` (the ontwikkeltafel's themes).",
            Self::ReviewStatuses => "A case review's `status`.",
            Self::ChronologyEvents => "A case review chronology line's `event`.",
        }
    }

    fn items(self) -> Vec<ReferenceItem> {
        fn of<T: Labelled>() -> Vec<ReferenceItem> {
            T::ALL
                .iter()
                .map(|v| ReferenceItem {
                    code: v.code().into(),
                    label_nl: v.label_nl().into(),
                    label_en: v.label_en().into(),
                    description: v.description().into(),
                })
                .collect()
        }
        match self {
            Self::SignalCategories => of::<SignalCategory>(),
            Self::SignalSources => of::<SignalSource>(),
            Self::SignalDirections => of::<SignalDirection>(),
            Self::GuardianRelationships => of::<Relationship>(),
            Self::ParentalAuthority => of::<ParentalAuthority>(),
            Self::AuthoritySources => of::<AuthoritySource>(),
            Self::OrganisationKinds => of::<OrganisationKind>(),
            Self::Roles => of::<Role>(),
            Self::Answers => of::<Answer>(),
            Self::Questions => of::<Question>(),
            Self::Decisions => of::<Decision>(),
            Self::MeldcodeSteps => of::<Step>(),
            Self::SkipReasons => of::<SkipReason>(),
            Self::HandoffKinds => of::<HandoffKind>(),
            Self::HandoffStatuses => of::<HandoffStatus>(),
            Self::LegalBases => of::<LegalBasis>(),
            Self::AgeBands => of::<AgeBand>(),
            Self::Urgencies => of::<Urgency>(),
            Self::ParentsNotInformedReasons => of::<ParentsNotInformedReason>(),
            Self::ConsentPurposes => of::<ConsentPurpose>(),
            Self::ConsentDecisions => of::<ConsentDecision>(),
            Self::ConsentMethods => of::<ConsentMethod>(),
            Self::ConsentStatuses => of::<ConsentStatus>(),
            Self::FeedbackCategories => of::<FeedbackCategory>(),
            Self::AssessmentOutcomes => of::<AssessmentOutcome>(),
            Self::Audiences => of::<Audience>(),
            Self::EventTypes => of::<crate::events::EventType>(),
            Self::RecordClasses => of::<lifecycle::RecordClass>(),
            Self::RecordTypes => of::<lifecycle::RecordType>(),
            Self::RequesterKinds => of::<lifecycle::RequesterKind>(),
            Self::DestructionScopes => of::<lifecycle::DestructionScope>(),
            Self::DestructionStatuses => of::<lifecycle::DestructionStatus>(),
            Self::DestructionOutcomes => of::<lifecycle::DestructionOutcome>(),
            Self::RefusalGrounds => of::<lifecycle::RefusalGround>(),
            Self::HearingOutcomes => of::<lifecycle::HearingOutcome>(),
            Self::WithheldReasons => of::<lifecycle::WithheldReason>(),
            Self::Deadlines => of::<crate::domain::handoff::Deadline>(),
            Self::ProposalSubjects => of::<crate::domain::meldcode::approval::ProposalSubject>(),
            Self::ApprovalVerdicts => of::<crate::domain::meldcode::approval::ApprovalVerdict>(),
            Self::HelpQuestions => of::<crate::domain::directory::HelpQuestion>(),
            Self::PartnerRoles => of::<crate::domain::partner_link::PartnerRole>(),
            Self::PartnerLinkStatuses => of::<crate::domain::partner_link::LinkStatus>(),
            Self::TeamRoles => of::<crate::domain::kernteam::TeamRole>(),
            Self::MeetingKinds => of::<crate::domain::kernteam::MeetingKind>(),
            Self::ReviewThemes => of::<crate::domain::case_review::Theme>(),
            Self::ReviewStatuses => of::<crate::domain::case_review::ReviewStatus>(),
            Self::ChronologyEvents => of::<crate::domain::case_review::ChronologyEvent>(),
        }
    }
}

/// One value of an enumeration.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ReferenceItem {
    /// The value as the API uses it.
    pub code: String,
    pub label_nl: String,
    pub label_en: String,
    pub description: String,
}

impl Example for ReferenceItem {
    fn example() -> Self {
        Self {
            code: "statements_by_child".into(),
            label_nl: "Uitspraken van het kind".into(),
            label_en: "Statements by the child".into(),
            description: "What the child says about home; record the words literally in the facts."
                .into(),
        }
    }
}

/// A reference list.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ReferenceListItems {
    pub name: String,
    pub description: String,
    pub items: Vec<ReferenceItem>,
}

/// A reference list, as listed.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ReferenceListSummary {
    pub name: String,
    pub description: String,
    /// Where to read it.
    pub href: String,
}

impl Example for ReferenceListSummary {
    fn example() -> Self {
        Self {
            name: "signal-categories".into(),
            description: ReferenceList::SignalCategories.describe().into(),
            href: "/v1/reference/signal-categories".into(),
        }
    }
}

/// The reference lists.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ReferenceLists {
    pub items: Vec<ReferenceListSummary>,
}

#[derive(ApiResponse)]
pub enum ListReferenceListsResponse {
    /// The lists.
    #[oai(status = 200)]
    Ok(Json<ReferenceLists>),
}

#[derive(ApiResponse)]
pub enum GetReferenceListResponse {
    /// The list's values, in display order.
    #[oai(status = 200)]
    Ok(Json<ReferenceListItems>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

pub struct ReferenceApi;

#[OpenApi(prefix_path = "/reference", tag = "ApiTags::Reference")]
impl ReferenceApi {
    /// List the reference lists
    ///
    /// The enumerations of this API that have Dutch and English labels. Needs no token.
    #[oai(path = "/", method = "get", operation_id = "listReferenceLists")]
    async fn lists(&self) -> ListReferenceListsResponse {
        ListReferenceListsResponse::Ok(Json(ReferenceLists {
            items: ReferenceList::ALL
                .iter()
                .map(|list| ReferenceListSummary {
                    name: list.name().into(),
                    description: list.describe().into(),
                    href: format!("/v1/reference/{}", list.name()),
                })
                .collect(),
        }))
    }

    /// Get a reference list
    ///
    /// Every value of one enumeration with its Dutch and English label and a description, e.g.
    /// `signal-categories`. Needs no token. Lists change only with a new API version: cache them
    /// and revalidate with `If-None-Match`.
    #[oai(path = "/:name", method = "get", operation_id = "getReferenceList")]
    async fn list(
        &self,
        /// The list's name.
        name: Path<ReferenceList>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetReferenceListResponse, ReadOne> {
        let list = name.0;
        let rendered = ReferenceListItems {
            name: list.name().into(),
            description: list.describe().into(),
            items: list.items(),
        };
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetReferenceListResponse::NotModified(tag));
        }
        Ok(GetReferenceListResponse::Ok(Json(rendered), tag))
    }
}
