//! Sending a handoff: every rule in one decision — which properties belong to which kind, the
//! recipient, the route, the consent it rests on, the information request it answers, the child
//! and signals it copies, the case it comes from.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    FieldError, check_text,
    consent::{self, ConsentGrant, ConsentPurpose},
    handoff::{
        AgeBand, CaseSnapshot, DeadlineRules, HandoffKind, HandoffStatus, LegalBasis, ReportTerms,
        Snapshot, Urgency, answers, basis_as_sent, check_report_terms, legal_basis,
        may_rest_on_consent, melder_fields_present, parents_fields_present, requires_child,
        route_allowed, tells_about_parents,
    },
    meldcode::Decision,
    organisation::OrganisationKind,
    refusal::Refusal,
};

/// A handoff as the sender asks to send it.
pub struct SendRequest<'a> {
    pub kind: HandoffKind,
    pub child_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub signal_ids: &'a [Uuid],
    pub message: &'a str,
    pub urgency: Option<Urgency>,
    pub requests_guidance: Option<bool>,
    pub age_band: Option<AgeBand>,
    pub in_response_to: Option<Uuid>,
    pub consent_id: Option<Uuid>,
    pub report: ReportTerms<'a>,
    /// A transfer request: the child's pupil number at the previous school.
    pub pupil_number: Option<&'a str>,
    /// A school transfer: the case summary the previous school selects.
    pub case_summary: Option<&'a str>,
}

/// The receiving organisation as the directory has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
    pub active: bool,
}

/// The handoff named in `inResponseTo`, as the sender may see it.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub kind: HandoffKind,
    pub from_organisation_id: Uuid,
    pub to_organisation_id: Uuid,
    pub status: HandoffStatus,
}

/// The case named, as the sender holds it.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub child_id: Uuid,
    /// The decision in force (meldcode step 5), if any.
    pub decision: Option<Decision>,
    /// A decision proposed under four eyes awaits its approval.
    pub decision_pending: bool,
    pub open: bool,
    /// Who leads it (regiehouder).
    pub lead_name: String,
}

/// Everything the decision needs, loaded by the handler; `None` where a named record does not
/// exist or is not the sender's.
pub struct SendContext {
    pub sender_id: Uuid,
    pub sender_kind: OrganisationKind,
    pub recipient: Option<Recipient>,
    /// The child's consents with the id named in `consentId`.
    pub consents: Vec<ConsentGrant>,
    pub answered: Option<Answered>,
    /// The sender's child with its guardians and the named signals that are the child's.
    pub snapshot: Option<Snapshot>,
    /// Which of the named signals are the child's.
    pub signals_found: Vec<Uuid>,
    pub case: Option<CaseFacts>,
    pub now: DateTime<Utc>,
    pub deadlines: DeadlineRules,
}

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SendPlan {
    pub recipient_id: Uuid,
    pub recipient_name: String,
    pub legal_basis: LegalBasis,
    pub urgency: Urgency,
    pub requests_guidance: bool,
    pub melder_identity_disclosable: bool,
    pub snapshot: Snapshot,
    pub sent_at: DateTime<Utc>,
    pub acknowledgement_due_at: DateTime<Utc>,
}

pub fn decide_send(request: &SendRequest<'_>, context: &SendContext) -> Result<SendPlan, Refusal> {
    Refusal::unless_invalid(check_shape(request, context.now))?;
    let kind = request.kind;
    let recipient = context
        .recipient
        .as_ref()
        .ok_or(Refusal::UnknownRecipient)?;
    if !recipient.active {
        return Err(Refusal::RecipientInactive {
            name: recipient.name.clone(),
        });
    }
    if !route_allowed(kind, context.sender_kind, recipient.kind) {
        return Err(Refusal::RouteNotAllowed {
            kind,
            from: context.sender_kind,
            to: recipient.kind,
        });
    }
    let snapshot = match request.child_id {
        Some(_) => {
            let snapshot = context.snapshot.clone().ok_or(Refusal::UnknownChild)?;
            let unknown: Vec<Uuid> = request
                .signal_ids
                .iter()
                .filter(|id| !context.signals_found.contains(id))
                .copied()
                .collect();
            if !unknown.is_empty() {
                return Err(Refusal::UnknownSignals(unknown));
            }
            snapshot
        }
        None => Snapshot::default(),
    };
    let mut snapshot = snapshot;
    if kind == HandoffKind::TransferRequest
        && request.pupil_number.is_none()
        && snapshot.child.as_ref().is_none_or(|c| c.bsn.is_none())
    {
        return Err(Refusal::field(
            "pupilNumber",
            "name the child by its pupil number at the previous school, or register its BSN \
             (with its date of birth) first",
        ));
    }
    snapshot.pupil_number = request.pupil_number.map(str::to_owned);
    snapshot.case_summary = request.case_summary.map(str::to_owned);
    let basis = basis_as_sent(
        kind,
        request.child_id.is_some(),
        request.consent_id.is_some(),
    );
    if basis == LegalBasis::Consent {
        consent::covering(
            &context.consents,
            ConsentPurpose::InformationSharing,
            recipient.id,
            None,
        )
        .map_err(|not_covered| Refusal::ConsentRequired {
            purpose: ConsentPurpose::InformationSharing,
            category: None,
            not_covered,
            child_not_taken_in: false,
        })?;
    }
    if request.in_response_to.is_some() {
        let open_request_to_sender = context.answered.is_some_and(|r| {
            Some(r.kind) == answers(kind)
                && r.to_organisation_id == context.sender_id
                && r.from_organisation_id == recipient.id
                && !matches!(r.status, HandoffStatus::Withdrawn | HandoffStatus::Declined)
        });
        if !open_request_to_sender {
            return Err(Refusal::UnknownRequest);
        }
    }
    if request.case_id.is_some() {
        let case = context.case.clone().ok_or(Refusal::UnknownCase)?;
        if Some(case.child_id) != request.child_id {
            return Err(Refusal::CaseOfAnotherChild);
        }
        if kind == HandoffKind::Report && case.decision != Some(Decision::Report) {
            return Err(if case.decision_pending {
                Refusal::ApprovalPending {
                    subject: crate::domain::meldcode::approval::ProposalSubject::Decision,
                }
            } else {
                Refusal::ReportNotDecided
            });
        }
        if kind == HandoffKind::SchoolTransfer {
            snapshot.case = Some(CaseSnapshot {
                open: case.open,
                lead_name: case.lead_name.clone(),
                decision: case.decision,
            });
        }
    }
    let urgency = request.urgency.unwrap_or(Urgency::Regular);
    Ok(SendPlan {
        recipient_id: recipient.id,
        recipient_name: recipient.name.clone(),
        legal_basis: basis,
        urgency,
        requests_guidance: request.requests_guidance.unwrap_or(false),
        melder_identity_disclosable: request.report.melder_identity_disclosable,
        snapshot,
        sent_at: context.now,
        acknowledgement_due_at: context.deadlines.acknowledgement_due(context.now, urgency),
    })
}

/// Which properties belong to which kind: refuse what does not fit, name what is missing.
fn check_shape(request: &SendRequest<'_>, now: DateTime<Utc>) -> Vec<FieldError> {
    let kind = request.kind;
    let mut errors: Vec<FieldError> = check_text("message", request.message).into_iter().collect();
    let anonymous = kind == HandoffKind::AdviceRequest && request.child_id.is_none();
    if requires_child(kind) && request.child_id.is_none() {
        errors.push(FieldError::new(
            "childId",
            format!(
                "is required for {}",
                crate::domain::reference::Labelled::code(kind)
            ),
        ));
    }
    if anonymous {
        if request.age_band.is_none() {
            errors.push(FieldError::new(
                "ageBand",
                "an anonymous advice request gives the child's age band",
            ));
        }
        if !request.signal_ids.is_empty() {
            errors.push(FieldError::new(
                "signalIds",
                "an anonymous advice request carries no signals; name the child to include them",
            ));
        }
    } else if request.age_band.is_some() {
        errors.push(FieldError::new(
            "ageBand",
            "only for an anonymous advice request",
        ));
    }
    match (answers(kind), request.in_response_to) {
        (Some(_), None) => errors.push(FieldError::new(
            "inResponseTo",
            "name the request this answers (an information or transfer request)",
        )),
        (Some(_), Some(_)) | (None, None) => {}
        (None, Some(_)) => errors.push(FieldError::new(
            "inResponseTo",
            "only for an information response or a school transfer",
        )),
    }
    let consent_based = legal_basis(kind, true) == LegalBasis::Consent;
    if consent_based && request.consent_id.is_none() {
        errors.push(FieldError::new(
            "consentId",
            "a referral or a signal to the school names the consent it rests on",
        ));
    }
    if !may_rest_on_consent(kind) && request.consent_id.is_some() {
        errors.push(FieldError::new(
            "consentId",
            "only for a referral, a signal to the school or a school transfer",
        ));
    }
    if tells_about_parents(kind) {
        errors.extend(check_report_terms(&request.report, now));
    } else if parents_fields_present(&request.report) {
        errors.push(FieldError::new(
            "parentsInformedAt",
            "whether the parents were told belongs to a report or a school transfer",
        ));
    }
    if kind != HandoffKind::Report && melder_fields_present(&request.report) {
        errors.push(FieldError::new(
            "melderIdentityDisclosable",
            "melder-identity properties belong to a report",
        ));
    }
    match (kind, request.pupil_number) {
        (HandoffKind::TransferRequest, Some(number)) => {
            errors.extend(check_text("pupilNumber", number));
        }
        (_, Some(_)) => errors.push(FieldError::new(
            "pupilNumber",
            "only for a transfer request",
        )),
        _ => {}
    }
    match (kind, request.case_summary) {
        (HandoffKind::SchoolTransfer, Some(summary)) => {
            errors.extend(check_text("caseSummary", summary));
        }
        (_, Some(_)) => errors.push(FieldError::new("caseSummary", "only for a school transfer")),
        _ => {}
    }
    if kind == HandoffKind::TransferRequest {
        if !request.signal_ids.is_empty() {
            errors.push(FieldError::new(
                "signalIds",
                "a transfer request carries no signals: the previous school selects what goes",
            ));
        }
        if request.case_id.is_some() {
            errors.push(FieldError::new(
                "caseId",
                "a transfer request comes from no case",
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        consent::{ConsentStatus, NotCovered},
        handoff::ChildSnapshot,
        reference::Labelled,
    };
    use HandoffKind as H;
    use OrganisationKind as K;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const SENDER: u128 = 1;
    const RECIPIENT: u128 = 2;
    const CHILD: u128 = 10;
    const CASE: u128 = 20;
    const SIGNAL: u128 = 30;
    const CONSENT: u128 = 40;
    const REQUEST: u128 = 50;

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn informed() -> ReportTerms<'static> {
        ReportTerms {
            parents_informed_at: Some("2026-11-22T10:00:00Z".parse().unwrap()),
            parents_not_informed_reason: None,
            parents_not_informed_explanation: None,
            melder_identity_disclosable: true,
            melder_identity_reason: None,
        }
    }

    fn no_report_terms() -> ReportTerms<'static> {
        ReportTerms {
            parents_informed_at: None,
            ..informed()
        }
    }

    /// A well-formed request of each kind.
    fn request(kind: HandoffKind) -> SendRequest<'static> {
        const SIGNALS: &[Uuid] = &[Uuid::from_u128(SIGNAL)];
        SendRequest {
            kind,
            child_id: Some(id(CHILD)),
            case_id: None,
            message: "Zorgen over het welzijn van het kind.",
            urgency: None,
            requests_guidance: None,
            age_band: None,
            signal_ids: if kind == H::TransferRequest {
                &[]
            } else {
                SIGNALS
            },
            in_response_to: answers(kind).map(|_| id(REQUEST)),
            consent_id: matches!(kind, H::Referral | H::SignalToSchool).then(|| id(CONSENT)),
            report: if tells_about_parents(kind) {
                informed()
            } else {
                no_report_terms()
            },
            pupil_number: (kind == H::TransferRequest).then_some("LL-1"),
            case_summary: (kind == H::SchoolTransfer).then_some("Zorgen over thuis; hulp loopt."),
        }
    }

    /// Everything in place for a request of `kind` from `from` to `to`.
    fn context(from: OrganisationKind, to: OrganisationKind) -> SendContext {
        SendContext {
            sender_id: id(SENDER),
            sender_kind: from,
            recipient: Some(Recipient {
                id: id(RECIPIENT),
                kind: to,
                name: "Ontvanger".into(),
                active: true,
            }),
            consents: vec![ConsentGrant {
                id: id(CONSENT),
                purpose: ConsentPurpose::InformationSharing,
                recipient: id(RECIPIENT),
                scope: Vec::new(),
                status: ConsentStatus::Active,
            }],
            answered: Some(Answered {
                kind: H::InformationRequest,
                from_organisation_id: id(RECIPIENT),
                to_organisation_id: id(SENDER),
                status: HandoffStatus::Received,
            }),
            snapshot: Some(Snapshot {
                child: Some(ChildSnapshot {
                    sender_ref: "LL-1".into(),
                    given_name: "Noah".into(),
                    family_name: "de Boer".into(),
                    date_of_birth: "2014-03-01".parse().unwrap(),
                    bsn: None,
                    school_group: None,
                }),
                ..Snapshot::default()
            }),
            signals_found: vec![id(SIGNAL)],
            case: Some(CaseFacts {
                child_id: id(CHILD),
                decision: Some(Decision::Report),
                decision_pending: false,
                open: true,
                lead_name: "Fatima El Amrani".into(),
            }),
            now: now(),
            deadlines: DeadlineRules::default(),
        }
    }

    fn refusal(request: &SendRequest<'_>, context: &SendContext) -> Option<Refusal> {
        decide_send(request, context).err()
    }

    fn invalid_fields(refusal: Option<Refusal>) -> Vec<&'static str> {
        match refusal {
            Some(Refusal::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    /// Route × kind × recipient kind: the decision follows `route_allowed` for every
    /// combination, and refuses with both kinds named.
    #[test]
    fn every_kind_between_every_pair_of_organisation_kinds() {
        let mut sent = 0;
        for &kind in HandoffKind::ALL {
            for &from in OrganisationKind::ALL {
                for &to in OrganisationKind::ALL {
                    let mut ctx = context(from, to);
                    if let (Some(asked), Some(answered)) = (answers(kind), ctx.answered.as_mut()) {
                        answered.kind = asked;
                    }
                    let outcome = decide_send(&request(kind), &ctx);
                    if route_allowed(kind, from, to) {
                        let plan =
                            outcome.unwrap_or_else(|r| panic!("{kind:?} {from}→{to}: {r:?}"));
                        assert_eq!(plan.legal_basis, legal_basis(kind, true));
                        sent += 1;
                    } else {
                        assert_eq!(
                            outcome.err(),
                            Some(Refusal::RouteNotAllowed { kind, from, to }),
                            "{kind:?} {from}→{to}"
                        );
                    }
                }
            }
        }
        assert_eq!(sent, 14, "the routes of DESIGN.md's table");
    }

    /// A transfer request names the child at the previous school and carries nothing else; a
    /// school transfer answers it, says whether the parents were told, and carries the case's
    /// state and a summary; consent makes it rest on consent.
    #[test]
    fn transfers_between_schools() {
        let ctx = || {
            let mut ctx = context(K::School, K::School);
            ctx.answered.as_mut().unwrap().kind = H::TransferRequest;
            ctx
        };
        let asked = request(H::TransferRequest);
        let plan = decide_send(&asked, &ctx()).unwrap();
        assert_eq!(plan.snapshot.pupil_number.as_deref(), Some("LL-1"));
        assert_eq!(plan.legal_basis, LegalBasis::Statutory);
        let unnamed = SendRequest {
            pupil_number: None,
            ..request(H::TransferRequest)
        };
        assert_eq!(invalid_fields(refusal(&unnamed, &ctx())), ["pupilNumber"]);
        let mut with_bsn = ctx();
        with_bsn
            .snapshot
            .as_mut()
            .unwrap()
            .child
            .as_mut()
            .unwrap()
            .bsn = Some("111222333".into());
        assert!(
            decide_send(&unnamed, &with_bsn).is_ok(),
            "BSN and date of birth name it too"
        );
        const SIGNALS: &[Uuid] = &[Uuid::from_u128(SIGNAL)];
        let loaded = SendRequest {
            signal_ids: SIGNALS,
            case_id: Some(id(CASE)),
            case_summary: Some("Samenvatting."),
            ..request(H::TransferRequest)
        };
        assert_eq!(
            invalid_fields(refusal(&loaded, &ctx())),
            ["caseSummary", "signalIds", "caseId"]
        );

        let transfer = SendRequest {
            case_id: Some(id(CASE)),
            ..request(H::SchoolTransfer)
        };
        let plan = decide_send(&transfer, &ctx()).unwrap();
        assert_eq!(plan.legal_basis, LegalBasis::Statutory);
        assert_eq!(
            plan.snapshot.case_summary.as_deref(),
            Some("Zorgen over thuis; hulp loopt.")
        );
        assert_eq!(
            plan.snapshot.case,
            Some(CaseSnapshot {
                open: true,
                lead_name: "Fatima El Amrani".into(),
                decision: Some(Decision::Report)
            })
        );
        let consented = SendRequest {
            consent_id: Some(id(CONSENT)),
            ..request(H::SchoolTransfer)
        };
        assert_eq!(
            decide_send(&consented, &ctx()).unwrap().legal_basis,
            LegalBasis::Consent
        );
        let mut no_consent = ctx();
        no_consent.consents.clear();
        assert!(matches!(
            refusal(&consented, &no_consent),
            Some(Refusal::ConsentRequired { .. })
        ));
        let unasked = SendRequest {
            in_response_to: None,
            report: no_report_terms(),
            ..request(H::SchoolTransfer)
        };
        assert_eq!(
            invalid_fields(refusal(&unasked, &ctx())),
            ["inResponseTo", "parentsInformedAt"]
        );
        let with_melder = SendRequest {
            report: ReportTerms {
                melder_identity_disclosable: false,
                melder_identity_reason: Some("Vrees voor represailles."),
                ..informed()
            },
            ..request(H::SchoolTransfer)
        };
        assert_eq!(
            invalid_fields(refusal(&with_melder, &ctx())),
            ["melderIdentityDisclosable"]
        );
        // It answers a transfer request of the recipient, not an information request.
        assert_eq!(
            refusal(&request(H::SchoolTransfer), &context(K::School, K::School)),
            Some(Refusal::UnknownRequest)
        );
        // The transfer-only properties belong to their kinds.
        let misplaced = SendRequest {
            pupil_number: Some("LL-1"),
            case_summary: Some("Samenvatting."),
            ..request(H::Report)
        };
        assert_eq!(
            invalid_fields(refusal(&misplaced, &context(K::School, K::VeiligThuis))),
            ["pupilNumber", "caseSummary"]
        );
    }

    #[test]
    fn the_recipient_must_exist_and_be_active() {
        let mut ctx = context(K::School, K::VeiligThuis);
        ctx.recipient.as_mut().unwrap().active = false;
        assert_eq!(
            refusal(&request(H::Report), &ctx),
            Some(Refusal::RecipientInactive {
                name: "Ontvanger".into()
            })
        );
        ctx.recipient = None;
        assert_eq!(
            refusal(&request(H::Report), &ctx),
            Some(Refusal::UnknownRecipient)
        );
    }

    /// Which properties belong to which kind.
    #[test]
    fn properties_belong_to_their_kind() {
        let ctx = context(K::School, K::VeiligThuis);
        let anonymous = SendRequest {
            child_id: None,
            signal_ids: &[],
            age_band: Some(AgeBand::Child),
            ..request(H::AdviceRequest)
        };
        const NIL: &[Uuid] = &[Uuid::nil()];
        let plan = decide_send(&anonymous, &ctx).expect("an anonymous advice request");
        assert_eq!(plan.legal_basis, LegalBasis::Anonymous);
        assert_eq!(plan.snapshot, Snapshot::default());
        let cases: Vec<(SendRequest, &[&str])> = vec![
            (
                SendRequest {
                    age_band: None,
                    ..anonymous_like()
                },
                &["ageBand"],
            ),
            (
                SendRequest {
                    signal_ids: NIL,
                    ..anonymous_like()
                },
                &["signalIds"],
            ),
            (
                SendRequest {
                    age_band: Some(AgeBand::Child),
                    ..request(H::Report)
                },
                &["ageBand"],
            ),
            (
                SendRequest {
                    child_id: None,
                    ..request(H::Report)
                },
                &["childId"],
            ),
            (
                SendRequest {
                    in_response_to: None,
                    ..request(H::InformationResponse)
                },
                &["inResponseTo"],
            ),
            (
                SendRequest {
                    in_response_to: Some(id(REQUEST)),
                    ..request(H::Report)
                },
                &["inResponseTo"],
            ),
            (
                SendRequest {
                    consent_id: None,
                    ..request(H::Referral)
                },
                &["consentId"],
            ),
            (
                SendRequest {
                    consent_id: Some(id(CONSENT)),
                    ..request(H::Report)
                },
                &["consentId"],
            ),
            (
                SendRequest {
                    report: no_report_terms(),
                    ..request(H::Report)
                },
                &["parentsInformedAt"],
            ),
            (
                SendRequest {
                    report: informed(),
                    ..request(H::AdviceRequest)
                },
                &["parentsInformedAt"],
            ),
            (
                SendRequest {
                    message: " ",
                    ..request(H::Report)
                },
                &["message"],
            ),
        ];
        for (request, fields) in cases {
            assert_eq!(
                invalid_fields(refusal(&request, &ctx)),
                fields,
                "{:?}",
                request.kind
            );
        }
    }

    fn anonymous_like() -> SendRequest<'static> {
        SendRequest {
            child_id: None,
            signal_ids: &[],
            age_band: Some(AgeBand::Child),
            ..request(H::AdviceRequest)
        }
    }

    /// Consent-based kinds need a consent of the child that covers this recipient.
    #[test]
    fn referrals_rest_on_an_active_consent_for_the_recipient() {
        let mut ctx = context(K::School, K::Wijkteam);
        assert!(decide_send(&request(H::Referral), &ctx).is_ok());
        ctx.consents[0].status = ConsentStatus::Draft;
        assert_eq!(
            refusal(&request(H::Referral), &ctx),
            Some(Refusal::ConsentRequired {
                purpose: ConsentPurpose::InformationSharing,
                category: None,
                not_covered: NotCovered::NotActive(ConsentStatus::Draft),
                child_not_taken_in: false,
            })
        );
        ctx.consents.clear();
        assert!(matches!(
            refusal(&request(H::Referral), &ctx),
            Some(Refusal::ConsentRequired {
                not_covered: NotCovered::NoConsent,
                ..
            })
        ));
    }

    /// An information response answers an open request the recipient sent the sender.
    #[test]
    fn a_response_answers_an_open_request_of_the_recipient() {
        let ok = context(K::School, K::VeiligThuis);
        assert!(decide_send(&request(H::InformationResponse), &ok).is_ok());
        let variants: [fn(&mut Answered); 5] = [
            |a| a.kind = H::AdviceRequest,
            |a| a.to_organisation_id = id(99),
            |a| a.from_organisation_id = id(99),
            |a| a.status = HandoffStatus::Withdrawn,
            |a| a.status = HandoffStatus::Declined,
        ];
        for change in variants {
            let mut ctx = context(K::School, K::VeiligThuis);
            change(ctx.answered.as_mut().unwrap());
            assert_eq!(
                refusal(&request(H::InformationResponse), &ctx),
                Some(Refusal::UnknownRequest)
            );
        }
        let mut ctx = context(K::School, K::VeiligThuis);
        ctx.answered = None;
        assert_eq!(
            refusal(&request(H::InformationResponse), &ctx),
            Some(Refusal::UnknownRequest)
        );
    }

    #[test]
    fn the_child_signals_and_case_must_be_the_senders() {
        let mut ctx = context(K::School, K::VeiligThuis);
        ctx.signals_found.clear();
        assert_eq!(
            refusal(&request(H::Report), &ctx),
            Some(Refusal::UnknownSignals(vec![id(SIGNAL)]))
        );
        ctx.snapshot = None;
        assert_eq!(
            refusal(&request(H::Report), &ctx),
            Some(Refusal::UnknownChild)
        );
        let from_case = SendRequest {
            case_id: Some(id(CASE)),
            ..request(H::Report)
        };
        let mut ctx = context(K::School, K::VeiligThuis);
        assert!(decide_send(&from_case, &ctx).is_ok());
        ctx.case.as_mut().unwrap().decision = Some(Decision::OrganiseHelp);
        assert_eq!(refusal(&from_case, &ctx), Some(Refusal::ReportNotDecided));
        // Four eyes: a proposed decision to report is not in force until approved.
        ctx.case.as_mut().unwrap().decision = None;
        ctx.case.as_mut().unwrap().decision_pending = true;
        assert_eq!(
            refusal(&from_case, &ctx),
            Some(Refusal::ApprovalPending {
                subject: crate::domain::meldcode::approval::ProposalSubject::Decision
            })
        );
        ctx.case.as_mut().unwrap().decision_pending = false;
        let advice = SendRequest {
            case_id: Some(id(CASE)),
            ..request(H::AdviceRequest)
        };
        assert!(
            decide_send(&advice, &ctx).is_ok(),
            "only a report needs the decision to report"
        );
        ctx.case.as_mut().unwrap().child_id = id(99);
        assert_eq!(refusal(&from_case, &ctx), Some(Refusal::CaseOfAnotherChild));
        ctx.case = None;
        assert_eq!(refusal(&from_case, &ctx), Some(Refusal::UnknownCase));
    }

    #[test]
    fn the_plan_carries_deadlines_and_defaults() {
        let ctx = context(K::School, K::VeiligThuis);
        let plan = decide_send(&request(H::Report), &ctx).unwrap();
        assert_eq!(plan.urgency, Urgency::Regular);
        assert!(!plan.requests_guidance);
        assert!(plan.melder_identity_disclosable);
        assert_eq!(plan.sent_at, now());
        assert_eq!(
            plan.acknowledgement_due_at,
            "2026-11-24T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let acute = SendRequest {
            urgency: Some(Urgency::Acute),
            ..request(H::Report)
        };
        assert_eq!(
            decide_send(&acute, &ctx).unwrap().acknowledgement_due_at,
            "2026-11-23T14:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
