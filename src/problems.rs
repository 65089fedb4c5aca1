//! Every problem type a client can branch on, in one place: its slug (the last segment of
//! `https://schakel.nl/problems/<slug>`), its status and its title. The spec's examples of each
//! operation's refusals are drawn from here, so the contract and the code cannot drift apart.

use poem::http::StatusCode;

macro_rules! problem_kinds {
    ($($(#[$meta:meta])* $variant:ident => ($slug:literal, $status:literal, $title:literal),)+) => {
        /// A kind of problem: stable, so clients can branch on its `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemKind {
            $($(#[$meta])* $variant,)+
        }

        impl ProblemKind {
            pub const ALL: &[ProblemKind] = &[$(Self::$variant),+];

            /// The last segment of the problem type URI.
            pub fn slug(self) -> &'static str {
                match self {
                    $(Self::$variant => $slug,)+
                }
            }

            pub fn status(self) -> StatusCode {
                let code = match self {
                    $(Self::$variant => $status,)+
                };
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }

            /// The same for every occurrence of the kind (RFC 9457 §3.1.3).
            pub fn title(self) -> &'static str {
                match self {
                    $(Self::$variant => $title,)+
                }
            }
        }
    };
}

problem_kinds! {
    // ---- the protocol ----
    /// Input that does not satisfy the contract; `invalidParams` names each problem.
    InvalidInput => ("invalid-input", 400, "Bad Request"),
    BadRequest => ("bad-request", 400, "Bad Request"),
    MalformedJson => ("malformed-json", 400, "Bad Request"),
    UnreadableBody => ("unreadable-body", 400, "Bad Request"),
    Unauthorized => ("unauthorized", 401, "Unauthorized"),
    Forbidden => ("forbidden", 403, "Forbidden"),
    NotFound => ("not-found", 404, "Not Found"),
    MethodNotAllowed => ("method-not-allowed", 405, "Method Not Allowed"),
    NotAcceptable => ("not-acceptable", 406, "Not Acceptable"),
    /// A record with the same unique values exists.
    Conflict => ("conflict", 409, "Conflict"),
    /// The request body did not arrive within the body read timeout.
    RequestTimeout => ("request-timeout", 408, "Request Timeout"),
    LengthRequired => ("length-required", 411, "Length Required"),
    PreconditionFailed => ("precondition-failed", 412, "Precondition Failed"),
    PayloadTooLarge => ("payload-too-large", 413, "Payload Too Large"),
    UnsupportedMediaType => ("unsupported-media-type", 415, "Unsupported Media Type"),
    UnprocessableContent => ("unprocessable-content", 422, "Unprocessable Content"),
    TooManyRequests => ("too-many-requests", 429, "Too Many Requests"),
    /// The request line and headers exceed the server's limit.
    HeaderFieldsTooLarge => ("header-fields-too-large", 431, "Request Header Fields Too Large"),
    InternalError => ("internal-error", 500, "Internal Server Error"),
    ServiceUnavailable => ("service-unavailable", 503, "Service Unavailable"),
    IdempotencyKeyInProgress => ("idempotency-key-in-progress", 409, "Conflict"),
    IdempotencyKeyReused => ("idempotency-key-reused", 422, "Idempotency key reused"),

    // ---- conflicts with the current state ----
    /// The record's status does not allow the step.
    InvalidTransition => ("invalid-transition", 409, "Conflict"),
    DuplicateExternalRef => ("duplicate-external-ref", 409, "Conflict"),
    DuplicateOrganisation => ("duplicate-organisation", 409, "Conflict"),
    CaseClosed => ("case-closed", 409, "Conflict"),
    CaseAlreadyOpen => ("case-already-open", 409, "Conflict"),
    AlreadyDecided => ("already-decided", 409, "Conflict"),
    WebhookSubscriptionDisabled => ("webhook-subscription-disabled", 409, "Conflict"),
    DeliveryInFlight => ("delivery-in-flight", 409, "Conflict"),
    /// A legal hold on the child blocks purging and destroying its records.
    LegalHold => ("legal-hold", 409, "Conflict"),
    /// The recipient of a handoff was reminded less than the interval ago.
    ReminderTooSoon => ("reminder-too-soon", 409, "Conflict"),
    /// A proposal of the case awaits a second professional's verdict (four eyes).
    ApprovalPending => ("approval-pending", 409, "Conflict"),
    /// No proposal of the case awaits a verdict.
    NothingToApprove => ("nothing-to-approve", 409, "Conflict"),
    /// A conditions check on a handoff without conditions in force.
    NoConditionsInForce => ("no-conditions-in-force", 409, "Conflict"),
    /// A school has one schakelfunctionaris at a time.
    SchakelfunctionarisTaken => ("schakelfunctionaris-taken", 409, "Conflict"),
    /// The professional already sits in the kernteam (or, as a guest, at the meeting).
    AlreadyAMember => ("already-a-member", 409, "Conflict"),
    /// The report has a case review proposed, agreed or released already.
    ReviewExists => ("review-exists", 409, "Conflict"),

    // ---- rules of the domain (422) ----
    UnknownChild => ("unknown-child", 422, "Unknown child"),
    UnknownSignal => ("unknown-signal", 422, "Unknown signal"),
    UnknownCase => ("unknown-case", 422, "Unknown case"),
    UnknownRecipient => ("unknown-recipient", 422, "Unknown recipient"),
    UnknownHandoff => ("unknown-handoff", 422, "Unknown handoff"),
    UnknownRequest => ("unknown-request", 422, "Unknown information request"),
    RecipientInactive => ("recipient-inactive", 422, "Recipient inactive"),
    RouteNotAllowed => ("route-not-allowed", 422, "Route not allowed"),
    /// Only reports and advice requests go on to another Veilig Thuis region, and only there.
    ForwardingNotAllowed => ("forwarding-not-allowed", 422, "Forwarding not allowed"),
    ReportNotDecided => ("report-not-decided", 422, "Report not decided"),
    NoChild => ("no-child", 422, "No child"),
    ConsentRequired => ("consent-required", 422, "Consent required"),
    NoConsentingParty => ("no-consenting-party", 422, "No consenting party"),
    NotARequiredParty => ("not-a-required-party", 422, "Not a required party"),
    ParentalAuthorityUnknown => ("parental-authority-unknown", 422, "Parental authority unknown"),
    StepOutOfOrder => ("step-out-of-order", 422, "Step out of order"),
    InvalidCorrection => ("invalid-correction", 422, "Invalid correction"),
    WeighingIncomplete => ("weighing-incomplete", 422, "Weighing incomplete"),
    ReportRequired => ("report-required", 422, "Report required"),
    DecisionNotAllowed => ("decision-not-allowed", 422, "Decision not allowed"),
    DecisionRequired => ("decision-required", 422, "Decision required"),
    ReportNotSent => ("report-not-sent", 422, "Report not sent"),
    PlatformOrganisation => ("platform-organisation", 422, "Platform organisation"),
    RequesterNotEntitled => ("requester-not-entitled", 422, "Requester not entitled"),
    HearingRequired => ("hearing-required", 422, "Hearing required"),
    UnknownRecord => ("unknown-record", 422, "Unknown record"),
    ExtensionNotAllowed => ("extension-not-allowed", 422, "Extension not allowed"),
    /// Partner links and kernteams belong to schools.
    NotASchool => ("not-a-school", 422, "Not a school"),
    /// The partner's kind of organisation does not fill the role.
    PartnerRoleMismatch => ("partner-role-mismatch", 422, "Partner role mismatch"),
    /// Kernteam members and action owners come from the school or its confirmed partners.
    NotAPartner => ("not-a-partner", 422, "Not a partner"),
    /// An anonymous kernteam text holds a valid BSN or a registered child's full name.
    NotAnonymous => ("not-anonymous", 422, "Not anonymous"),
    /// A case review is of a closed report from a school to Veilig Thuis.
    NotAClosedReport => ("not-a-closed-report", 422, "Not a closed report"),
    /// A part of a case review is released with reflections.
    ReflectionsRequired => ("reflections-required", 422, "Reflections required"),
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn slugs_are_unique_kebab_case_and_statuses_are_errors() {
        let mut seen = HashSet::new();
        for kind in ProblemKind::ALL {
            assert!(seen.insert(kind.slug()), "{} twice", kind.slug());
            assert!(
                kind.slug()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                kind.slug()
            );
            let status = kind.status().as_u16();
            assert!((400..600).contains(&status), "{kind}: {status}");
        }
    }
}
