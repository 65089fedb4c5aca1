//! The one mapping from the domain's refusals to problems: each refusal becomes exactly one
//! problem type with its detail here, whichever command refuses.

use super::{AppError, ProblemKind};
use crate::domain::{
    consent::{NotCovered, Party},
    handoff,
    meldcode::DecisionRefusal,
    reference::Labelled,
    refusal::Refusal,
};

/// The one mapping from the domain's refusals to problems.
impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        use ProblemKind as K;
        match refusal {
            Refusal::Invalid(errors) => AppError::fields(errors),
            Refusal::UnknownRecipient => AppError::new(
                K::UnknownRecipient,
                "The recipient is not an organisation of the directory.",
            ),
            Refusal::RecipientInactive { name } => AppError::new(
                K::RecipientInactive,
                format!("{name} is not active and cannot receive handoffs."),
            ),
            Refusal::RouteNotAllowed { kind, from, to } => AppError::new(
                K::RouteNotAllowed,
                format!(
                    "A {} goes {}; not from a {from} to a {to}.",
                    kind.label_en().to_lowercase(),
                    handoff::describe_route(kind),
                ),
            ),
            Refusal::UnknownChild => AppError::new(
                K::UnknownChild,
                "childId is not a child of your organisation.",
            ),
            Refusal::UnknownSignals(ids) => AppError::new(
                K::UnknownSignal,
                "Every signal must be a signal of this child.",
            )
            .with_extension(
                "signalIds",
                ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ),
            Refusal::UnknownCase => {
                AppError::new(K::UnknownCase, "caseId is not a case of your organisation.")
            }
            Refusal::CaseOfAnotherChild => {
                AppError::new(K::UnknownCase, "caseId must be a case of the same child.")
            }
            Refusal::ReportNotDecided => AppError::new(
                K::ReportNotDecided,
                "The case's decision (step 5) is not to report; record that decision first.",
            ),
            Refusal::UnknownRequest => AppError::new(
                K::UnknownRequest,
                "inResponseTo must be an open request the recipient sent you: an information \
                 request for an information response, a transfer request for a school transfer.",
            ),
            Refusal::ConsentRequired {
                purpose,
                category,
                not_covered,
                child_not_taken_in,
            } => {
                let mut detail = not_covered.explain(purpose, category);
                if child_not_taken_in {
                    detail.push_str(
                        " (Consent is recorded on your own child record: take the child in first.)",
                    );
                }
                AppError::new(K::ConsentRequired, detail).with_extension(
                    "missing",
                    match not_covered {
                        NotCovered::NoConsent => "no_consent",
                        NotCovered::NotActive(_) => "consent_not_active",
                        NotCovered::OutOfScope => "category_not_in_scope",
                    },
                )
            }
            Refusal::HandoffStep { status, step } => AppError::new(
                K::InvalidTransition,
                format!("A {} handoff cannot take a {}.", status.code(), step.code()),
            )
            .with_extension("handoffStatus", status.code()),
            Refusal::IntakeBeforeReceipt { status } => AppError::new(
                K::InvalidTransition,
                format!(
                    "A {} handoff cannot be taken in: acknowledge it first.",
                    status.code()
                ),
            )
            .with_extension("handoffStatus", status.code()),
            Refusal::NoChildToTakeIn => AppError::new(
                K::NoChild,
                "An anonymous advice request names no child to take in.",
            ),
            Refusal::FeedbackNotOpen { status } => AppError::new(
                K::InvalidTransition,
                format!(
                    "A {} handoff takes no feedback: acknowledge it first.",
                    status.code()
                ),
            )
            .with_extension("handoffStatus", status.code()),
            Refusal::DuplicateExternalRef { existing } => {
                let problem = AppError::new(
                    K::DuplicateExternalRef,
                    "Your organisation already registered a child with this externalRef.",
                );
                match existing {
                    Some(id) => problem.with_extension("existingId", id.to_string()),
                    // A concurrent registration won the race: its id is not known here.
                    None => problem,
                }
            }
            Refusal::CaseClosed => AppError::new(
                K::CaseClosed,
                "The case is closed; nothing more can be recorded on it.",
            ),
            Refusal::CaseAlreadyOpen { existing } => AppError::new(
                K::CaseAlreadyOpen,
                "This child already has an open case in your organisation.",
            )
            .with_extension("existingId", existing.to_string()),
            Refusal::InvalidCorrection { step } => AppError::new(
                K::InvalidCorrection,
                format!(
                    "`supersedes` must name a {} record of this case that is not yet corrected.",
                    step.code()
                ),
            ),
            Refusal::StepOutOfOrder { step, missing } => AppError::new(
                K::StepOutOfOrder,
                format!(
                    "Record {} first: {} needs it.",
                    missing
                        .iter()
                        .map(|s| s.label_en())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    step.label_en()
                ),
            )
            .with_extension(
                "missingSteps",
                missing.iter().map(|s| s.code()).collect::<Vec<_>>(),
            ),
            Refusal::Decision { refusal, decision } => {
                let detail = refusal.explain(decision);
                match refusal {
                    DecisionRefusal::ReportRequired { question, answer } => {
                        AppError::new(K::ReportRequired, detail)
                            .with_extension("question", question.code())
                            .with_extension("answer", answer.code())
                    }
                    DecisionRefusal::NotAllowed {
                        question,
                        answer,
                        allowed,
                    } => AppError::new(K::DecisionNotAllowed, detail)
                        .with_extension("question", question.code())
                        .with_extension("answer", answer.code())
                        .with_extension(
                            "allowedDecisions",
                            allowed.iter().map(|d| d.code()).collect::<Vec<_>>(),
                        ),
                    DecisionRefusal::WeighingIncomplete { next } => {
                        AppError::new(K::WeighingIncomplete, detail)
                            .with_extension("question", next.code())
                    }
                }
            }
            Refusal::DecisionRequired => AppError::new(
                K::DecisionRequired,
                "Record the decision (step 5) before closing the case.",
            ),
            Refusal::ReportNotSent => AppError::new(
                K::ReportNotSent,
                "The decision is to report to Veilig Thuis: send the report before closing the case.",
            ),
            Refusal::UnknownHandoff => AppError::new(
                K::UnknownHandoff,
                "handoffId is not a handoff your organisation sent or received.",
            ),
            Refusal::ConsentDecided { status } => AppError::new(
                K::InvalidTransition,
                format!(
                    "The consent is {}: no more decisions are recorded on it.",
                    status.code()
                ),
            )
            .with_extension("consentStatus", status.code()),
            Refusal::ConsentInactive { status } => {
                AppError::new(K::InvalidTransition, "The consent is already inactive.")
                    .with_extension("consentStatus", status.code())
            }
            Refusal::ParentalAuthorityUnknown { guardians, names } => AppError::new(
                K::ParentalAuthorityUnknown,
                format!(
                    "The parental authority of {} is unknown, so whose consent counts is not settled: \
                     verify it in the gezagsregister and record it on the guardian, then record the decisions.",
                    names.join(" and ")
                ),
            )
            .with_extension(
                "guardianIds",
                guardians.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ),
            Refusal::NoConsentingParty => AppError::new(
                K::NoConsentingParty,
                "No guardian with parental authority is registered for this child: add them first.",
            ),
            Refusal::NotARequiredParty { party } => AppError::new(
                K::NotARequiredParty,
                match party {
                    Party::Child => "The child's own consent is not required at this age.",
                    Party::Guardian(_) => {
                        "This is not a guardian with parental authority of this child."
                    }
                },
            ),
            Refusal::NotAWithdrawingParty => AppError::new(
                K::NotARequiredParty,
                "Only the child or a guardian with parental authority withdraws consent.",
            ),
            Refusal::AlreadyDecided => AppError::new(
                K::AlreadyDecided,
                "This party already decided; a consent given can be withdrawn.",
            ),
            Refusal::SecondPlatform => AppError::new(
                K::PlatformOrganisation,
                "There is exactly one platform organisation; `schakel bootstrap` creates it.",
            ),
            Refusal::PlatformDeactivation => AppError::new(
                K::PlatformOrganisation,
                "The platform organisation cannot be deactivated.",
            ),
            Refusal::RequesterNotEntitled { age, requester } => AppError::new(
                K::RequesterNotEntitled,
                format!(
                    "At {age} the {} cannot ask this: under 12 the guardians with parental \
                     authority ask, from 12 to 15 the child or those guardians, from 16 the \
                     child alone.",
                    requester.label_en().to_lowercase()
                ),
            ),
            Refusal::HearingRequired { guardians } => AppError::new(
                K::HearingRequired,
                "Another guardian with parental authority must be heard before the decision: \
                 record in `hearing` that they were, or why not.",
            )
            .with_extension(
                "guardianIds",
                guardians.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ),
            Refusal::HandoffNotOpen { status } => AppError::new(
                K::InvalidTransition,
                format!(
                    "The handoff is {}: only an open handoff is reminded or forwarded.",
                    status.code()
                ),
            )
            .with_extension("handoffStatus", status.code()),
            Refusal::NotForwardable { kind } => AppError::new(
                K::ForwardingNotAllowed,
                format!(
                    "A {} is not forwarded: only reports and advice requests go on to another \
                     Veilig Thuis region.",
                    kind.code()
                ),
            ),
            Refusal::ForwardingTarget => AppError::new(
                K::ForwardingNotAllowed,
                "Forwarding goes to another Veilig Thuis region: name its organisation id.",
            ),
            Refusal::ApprovalPending { subject } => AppError::new(
                K::ApprovalPending,
                format!(
                    "A proposed {} awaits a second professional's approval \
                     (POST /v1/cases/{{id}}/approvals) before anything else is decided.",
                    subject.label_en().to_lowercase()
                ),
            )
            .with_extension("subject", subject.code()),
            Refusal::NotASchool => AppError::new(
                K::NotASchool,
                "Partner links and kernteams belong to a school.",
            ),
            Refusal::PartnerRoleMismatch { role, kind } => AppError::new(
                K::PartnerRoleMismatch,
                format!(
                    "A {} does not fill the role {}; it is filled by: {}.",
                    kind.code(),
                    role.code(),
                    role.filled_by()
                        .iter()
                        .map(|k| k.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Refusal::SchakelfunctionarisTaken => AppError::new(
                K::SchakelfunctionarisTaken,
                "The school already has a schakelfunctionaris (proposed or confirmed): end that \
                 link first.",
            ),
            Refusal::LinkStep { status, act } => AppError::new(
                K::InvalidTransition,
                format!("A {} partner link takes no {}.", status.code(), act.code()),
            ),
            Refusal::NotAnonymous { field, what } => AppError::new(
                K::NotAnonymous,
                format!(
                    "`{field}` of an anonymous item holds {}. Leave it out, or present the child \
                     by name under consent for a case conference.",
                    identifier(what)
                ),
            )
            .with_extension("field", field),
            Refusal::ReflectionNotAnonymous { field, what } => AppError::new(
                K::NotAnonymous,
                format!(
                    "`{field}` holds {}. A case review speaks of the child and the people \
                     around it by their roles only.",
                    identifier(what)
                ),
            )
            .with_extension("field", field),
            Refusal::NotAClosedReport => AppError::new(
                K::NotAClosedReport,
                "A case review looks back on a closed report from a school to Veilig Thuis; \
                 this handoff is not one (yet).",
            ),
            Refusal::ReviewExists => AppError::new(
                K::ReviewExists,
                "This report has a case review proposed, agreed or released already.",
            ),
            Refusal::ReviewStep { status, act } => AppError::new(
                K::InvalidTransition,
                format!(
                    "A {} case review (or a part you released) takes no {}.",
                    status.code(),
                    act.code()
                ),
            ),
            Refusal::ReflectionsRequired => AppError::new(
                K::ReflectionsRequired,
                "Write what went well or what could be better before you release your part.",
            ),
            Refusal::CaseConferenceConsentRequired { organisations } => AppError::new(
                K::ConsentRequired,
                "An identified item needs an active consent for a case conference \
                 (case_conference) to every organisation in the room; `notCovered` names those \
                 without one. Present the child anonymously, or ask consent first.",
            )
            .with_extension(
                "notCovered",
                organisations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ),
            Refusal::NotAPartner => AppError::new(
                K::NotAPartner,
                "Kernteam members and action owners come from the school or an organisation with \
                 a confirmed partner link to it (guests: from the meeting they attend).",
            ),
            Refusal::AlreadySeated => AppError::new(
                K::AlreadyAMember,
                "This professional already sits in the kernteam (a guest: at this meeting).",
            ),
            Refusal::ActionDone => AppError::new(
                K::InvalidTransition,
                "The action was done already.",
            ),
            Refusal::NothingToApprove => AppError::new(
                K::NothingToApprove,
                "No proposal of this case awaits a verdict.",
            ),
            Refusal::OwnProposal => AppError::forbidden(
                "A second professional approves: the proposer does not give the verdict on their \
                 own proposal.",
            ),
            Refusal::NoConditionsInForce => AppError::new(
                K::NoConditionsInForce,
                "No safety conditions run on this handoff: a conditions check follows a \
                 conditions_and_follow_up decision.",
            ),
            Refusal::ReminderTooSoon { next_at } => AppError::new(
                K::ReminderTooSoon,
                format!(
                    "The recipient was reminded recently; the next reminder can go at {}.",
                    next_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            )
            .with_extension(
                "nextReminderAt",
                next_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            Refusal::ExtensionNotAllowed { why } => AppError::new(
                K::ExtensionNotAllowed,
                format!("The term cannot be extended: {why}."),
            ),
            Refusal::LegalHoldActive => AppError::new(
                K::LegalHold,
                "A legal hold on the child blocks destroying its records until it is lifted or \
                 its end date passes.",
            ),
            Refusal::UnknownRecords(records) => AppError::new(
                K::UnknownRecord,
                "Every record named must be a record of this child at your organisation.",
            )
            .with_extension(
                "records",
                records
                    .iter()
                    .map(|r| format!("{}:{}", r.record_type.code(), r.id))
                    .collect::<Vec<_>>(),
            ),
            Refusal::DuplicateOrganisation { existing } => {
                let problem = AppError::new(
                    K::DuplicateOrganisation,
                    "An organisation is already registered for this BRIN and branch.",
                );
                match existing {
                    Some(id) => problem.with_extension("existingId", id.to_string()),
                    // A concurrent registration won the race: its id is not known here.
                    None => problem,
                }
            }
        }
    }
}

fn identifier(what: crate::domain::kernteam::Identifier) -> &'static str {
    match what {
        crate::domain::kernteam::Identifier::Bsn => "a number that passes the 11-proef (a BSN)",
        crate::domain::kernteam::Identifier::ChildName => {
            "the full name of a child registered at your organisation"
        }
    }
}
