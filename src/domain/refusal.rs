//! Why the domain refuses a command, in its own words. Each refusal becomes exactly one problem
//! type with its detail in one place (`error/refusal.rs`), whichever command refuses.

use uuid::Uuid;

use crate::domain::{
    FieldError,
    consent::{ConsentPurpose, ConsentStatus, NotCovered, Party},
    feedback::FeedbackCategory,
    handoff::{HandoffKind, HandoffStatus, Transition},
    lifecycle::{RecordRef, RequesterKind},
    meldcode::{Decision, DecisionRefusal, Step},
    organisation::OrganisationKind,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Input that breaks a rule of its shape, one entry per property (400).
    Invalid(Vec<FieldError>),
    /// The recipient named is not in the directory.
    UnknownRecipient,
    /// The recipient is deactivated.
    RecipientInactive { name: String },
    /// This kind of handoff does not go between these kinds of organisation.
    RouteNotAllowed {
        kind: HandoffKind,
        from: OrganisationKind,
        to: OrganisationKind,
    },
    /// The child named is not a child of the caller's organisation.
    UnknownChild,
    /// These signals are not signals of the child.
    UnknownSignals(Vec<Uuid>),
    /// The case named is not a case of the caller's organisation…
    UnknownCase,
    /// …or not of the same child.
    CaseOfAnotherChild,
    /// A report from a case needs the case's decision to report (meldcode step 5).
    ReportNotDecided,
    /// The information request answered is not an open one the recipient sent the caller.
    UnknownRequest,
    /// No consent covers the disclosure.
    ConsentRequired {
        purpose: ConsentPurpose,
        category: Option<FeedbackCategory>,
        not_covered: NotCovered,
        /// Consent is recorded on a child record the caller has not taken in yet.
        child_not_taken_in: bool,
    },
    /// The handoff's status does not allow this step.
    HandoffStep {
        status: HandoffStatus,
        step: Transition,
    },
    /// A child is taken in only from a handoff that was acknowledged.
    IntakeBeforeReceipt { status: HandoffStatus },
    /// An anonymous advice request names no child to take in.
    NoChildToTakeIn,
    /// Feedback only on a handoff that was acknowledged and not withdrawn.
    FeedbackNotOpen { status: HandoffStatus },
    /// The organisation already has a child with this reference.
    DuplicateExternalRef { existing: Option<Uuid> },
    /// Nothing more is recorded on a closed case.
    CaseClosed,
    /// The child already has an open case in the organisation.
    CaseAlreadyOpen { existing: Uuid },
    /// A correction must name an active record of the same step.
    InvalidCorrection { step: Step },
    /// The step needs these steps first.
    StepOutOfOrder { step: Step, missing: Vec<Step> },
    /// The afwegingskader does not allow the decision (or the weighing is incomplete).
    Decision {
        refusal: DecisionRefusal,
        decision: Decision,
    },
    /// A case is closed only after step 5.
    DecisionRequired,
    /// A decision to report closes only after the report was sent.
    ReportNotSent,
    /// The handoff named is not one the caller's organisation sent or received.
    UnknownHandoff,
    /// Decisions are recorded on a draft consent only.
    ConsentDecided { status: ConsentStatus },
    /// The consent was withdrawn or is no longer valid.
    ConsentInactive { status: ConsentStatus },
    /// Whose consent counts is unsettled: these guardians' parental authority is unknown.
    ParentalAuthorityUnknown {
        guardians: Vec<Uuid>,
        names: Vec<String>,
    },
    /// No guardian with parental authority is registered.
    NoConsentingParty,
    /// The party's consent is not required.
    NotARequiredParty { party: Party },
    /// Only the child or a guardian with parental authority withdraws.
    NotAWithdrawingParty,
    /// The party already decided.
    AlreadyDecided,
    /// There is exactly one platform organisation.
    SecondPlatform,
    /// The platform organisation stays active.
    PlatformDeactivation,
    /// Who asks for destruction is not entitled to, at the child's age (or without authority).
    RequesterNotEntitled { age: u32, requester: RequesterKind },
    /// The other guardians with parental authority must be heard before the decision.
    HearingRequired { guardians: Vec<Uuid> },
    /// Reminders and notices concern open handoffs only.
    HandoffNotOpen { status: HandoffStatus },
    /// The recipient was reminded less than the interval ago.
    ReminderTooSoon {
        next_at: chrono::DateTime<chrono::Utc>,
    },
    /// A destruction request's term cannot be extended (again, any more, or at all).
    ExtensionNotAllowed { why: String },
    /// A legal hold blocks destroying anything about the child.
    LegalHoldActive,
    /// These named records are not records of the child at the organisation.
    UnknownRecords(Vec<RecordRef>),
    /// A school location (BRIN and branch) is registered once.
    DuplicateOrganisation { existing: Option<Uuid> },
    /// Only reports and advice requests are forwarded between Veilig Thuis regions.
    NotForwardable { kind: HandoffKind },
    /// Forwarding goes to another Veilig Thuis region.
    ForwardingTarget,
    /// A conditions check needs conditions in force (voorwaarden en vervolg).
    NoConditionsInForce,
    /// A proposal awaits a second professional's verdict (vier-ogenprincipe).
    ApprovalPending {
        subject: crate::domain::meldcode::approval::ProposalSubject,
    },
    /// No proposal awaits a verdict.
    NothingToApprove,
    /// The proposer does not approve their own proposal.
    OwnProposal,
    /// Partner links and kernteams belong to a school.
    NotASchool,
    /// The partner's kind of organisation does not fill the role.
    PartnerRoleMismatch {
        role: crate::domain::partner_link::PartnerRole,
        kind: OrganisationKind,
    },
    /// The school already has a schakelfunctionaris (proposed or confirmed).
    SchakelfunctionarisTaken,
    /// The link's status does not allow the act.
    LinkStep {
        status: crate::domain::partner_link::LinkStatus,
        act: crate::domain::partner_link::LinkAct,
    },
    /// An anonymous kernteam text gives the child away.
    NotAnonymous {
        field: &'static str,
        what: crate::domain::kernteam::Identifier,
    },
    /// An identified kernteam item needs consent for a case conference to these organisations.
    CaseConferenceConsentRequired { organisations: Vec<Uuid> },
    /// Kernteam members (and action owners) come from the school or its confirmed partners.
    NotAPartner,
    /// The professional already sits in the team (or, as a guest, at the meeting).
    AlreadySeated,
    /// The action was done already.
    ActionDone,
    /// A case review is of a closed report from a school to Veilig Thuis.
    NotAClosedReport,
    /// The report has a review proposed, agreed or released already.
    ReviewExists,
    /// The review's status (or the caller's released part) does not allow the step.
    ReviewStep {
        status: crate::domain::case_review::ReviewStatus,
        act: crate::domain::case_review::ReviewAct,
    },
    /// A part is released with reflections.
    ReflectionsRequired,
    /// A reflection gives a child away.
    ReflectionNotAnonymous {
        field: &'static str,
        what: crate::domain::kernteam::Identifier,
    },
}

impl Refusal {
    /// One field that breaks a rule of its shape.
    pub fn field(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, reason)])
    }

    /// `Ok` when there is nothing to refuse.
    pub fn unless_invalid(errors: Vec<FieldError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self::Invalid(errors))
        }
    }
}
