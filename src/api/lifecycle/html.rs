//! The subject-access export as a self-contained printable HTML document with Dutch labels:
//! no scripts, no external resources, every value escaped (maud).

use maud::{Markup, html};
use poem_openapi::types::ToJSON;
use serde_json::Value;

use super::subject_access::SubjectAccess;
use crate::api::shared::printable_page;
use crate::domain::{
    child::{AuthoritySource, ParentalAuthority, Relationship},
    consent::{ConsentDecision, ConsentMethod, ConsentPurpose, ConsentStatus},
    feedback::{AssessmentOutcome, Audience, FeedbackCategory},
    handoff::{HandoffKind, HandoffStatus, LegalBasis, Urgency},
    lifecycle::{
        DestructionScope, DestructionStatus, HearingOutcome, RefusalGround, RequesterKind,
        WITHHELD, WithheldReason,
    },
    meldcode::{Answer, CaseStatus, Decision, Step},
    organisation::OrganisationKind,
    reference::Labelled,
    signal::{SignalCategory, SignalDirection, SignalSource},
};

/// The sections, in the order a reader expects them.
const SECTIONS: &[(&str, &str)] = &[
    ("child", "Kind en gezagsdragers"),
    ("signals", "Signalen"),
    ("cases", "Meldcodetrajecten"),
    (
        "handoffsSent",
        "Verstuurde overdrachten (meldingen, adviesvragen, verwijzingen)",
    ),
    ("handoffsReceived", "Ontvangen overdrachten"),
    ("consents", "Toestemmingen"),
    ("feedback", "Terugkoppeling"),
    ("kernteamItems", "Besproken in het kernteam"),
    ("caseReviews", "Casusbesprekingen (gepseudonimiseerd)"),
    ("timeline", "Tijdlijn"),
    ("legalHold", "Bewaarplicht (legal hold)"),
    ("destructionRequests", "Vernietigingsverzoeken"),
    ("accessLog", "Wie heeft de gegevens ingezien (logging)"),
    ("withheld", "Achtergehouden gegevens"),
];

/// Dutch labels for the properties a reader meets.
const LABELS: &[(&str, &str)] = &[
    ("id", "Kenmerk"),
    ("externalRef", "Leerling- of cliëntnummer"),
    ("givenName", "Voornaam"),
    ("familyName", "Achternaam"),
    ("dateOfBirth", "Geboortedatum"),
    ("bsn", "BSN"),
    ("schoolGroup", "Groep of klas"),
    ("guardians", "Gezagsdragers en verzorgers"),
    ("name", "Naam"),
    ("relationship", "Relatie"),
    ("parentalAuthority", "Gezag"),
    ("authoritySource", "Bron van het gezag"),
    ("contact", "Contactgegevens"),
    ("phone", "Telefoon"),
    ("email", "E-mail"),
    ("leftOn", "Van school vertrokken op"),
    ("careEndedOn", "Hulp beëindigd op"),
    ("createdAt", "Vastgelegd op"),
    ("updatedAt", "Gewijzigd op"),
    ("childId", "Kind"),
    ("recordedAt", "Vastgelegd op"),
    ("recordedBy", "Vastgelegd door"),
    ("observedAt", "Waargenomen op"),
    ("category", "Categorie"),
    ("source", "Bron"),
    ("sourceDescription", "Toelichting op de bron"),
    ("facts", "Feiten"),
    ("interpretation", "Interpretatie"),
    ("direction", "Richting"),
    ("revision", "Versie"),
    ("revisions", "Versies"),
    ("reason", "Reden"),
    ("role", "Rol"),
    ("sub", "Medewerker"),
    ("status", "Status"),
    ("lead", "Regiehouder"),
    ("steps", "Stappen"),
    ("step", "Stap"),
    ("actions", "Afspraken"),
    ("description", "Omschrijving"),
    ("dueDate", "Uiterlijk"),
    ("decision", "Besluit"),
    ("rationale", "Onderbouwing"),
    ("advice", "Advies"),
    ("answers", "Antwoorden"),
    ("answer", "Antwoord"),
    ("note", "Notitie"),
    ("kind", "Soort"),
    ("from", "Van"),
    ("to", "Aan"),
    ("message", "Bericht"),
    ("legalBasis", "Grondslag"),
    ("sentAt", "Verstuurd op"),
    ("sentBy", "Verstuurd door"),
    ("signals", "Signalen"),
    ("child", "Kind"),
    ("transitions", "Verloop"),
    ("at", "Op"),
    ("by", "Door"),
    ("purpose", "Doel"),
    ("scope", "Omvang"),
    ("decisions", "Besluiten"),
    ("party", "Partij"),
    ("method", "Wijze"),
    ("validUntil", "Geldig tot"),
    ("audience", "Voor wie"),
    ("readBy", "Gelezen door"),
    ("readAt", "Gelezen op"),
    ("occurredAt", "Tijdstip"),
    ("type", "Soort"),
    ("actor", "Wie"),
    ("summary", "Samenvatting"),
    ("resource", "Gegeven"),
    ("action", "Handeling"),
    ("resourceType", "Soort gegeven"),
    ("resourceId", "Kenmerk gegeven"),
    ("outcome", "Uitkomst"),
    ("roles", "Rollen"),
    ("requestId", "Verzoek"),
    ("until", "Tot en met"),
    ("active", "Van kracht"),
    ("placedBy", "Ingesteld door"),
    ("placedAt", "Ingesteld op"),
    ("requester", "Verzoeker"),
    ("receivedOn", "Ontvangen op"),
    ("dueOn", "Beslissen uiterlijk op"),
    ("weighing", "Belangenafweging"),
    ("refusalGround", "Weigeringsgrond"),
    ("legalDuty", "Wettelijke bewaarplicht"),
    ("pointer", "Plaats"),
    ("explanation", "Toelichting"),
];

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#111;line-height:1.4}h1{font-size:1.5rem}h2{font-size:1.2rem;\
border-bottom:2px solid #333;margin-top:2rem}dl{display:grid;grid-template-columns:14rem 1fr;\
gap:.2rem .8rem;margin:.3rem 0}dt{font-weight:600;color:#333}dd{margin:0}.item{border:1px solid \
#bbb;padding:.4rem .6rem;margin:.4rem 0;break-inside:avoid}.withheld{background:#eee;\
font-style:italic}.meta{color:#444}@media print{body{margin:0}}";

/// A code in Dutch, by the property it stands in: what a parent reads is "Uitspraak van het
/// kind", not `statements_by_child`.
fn code_label(key: &str, code: &str) -> Option<&'static str> {
    fn nl<T: Labelled>(code: &str) -> Option<&'static str> {
        T::parse(code).map(Labelled::label_nl)
    }
    match key {
        "category" => nl::<SignalCategory>(code).or_else(|| nl::<FeedbackCategory>(code)),
        "source" => nl::<SignalSource>(code),
        "direction" => nl::<SignalDirection>(code),
        "relationship" => nl::<Relationship>(code),
        "parentalAuthority" => nl::<ParentalAuthority>(code),
        "authoritySource" => nl::<AuthoritySource>(code),
        "legalBasis" => nl::<LegalBasis>(code),
        "urgency" => nl::<Urgency>(code),
        "purpose" => nl::<ConsentPurpose>(code),
        "method" => nl::<ConsentMethod>(code),
        "audience" => nl::<Audience>(code),
        "outcome" => nl::<AssessmentOutcome>(code).or_else(|| nl::<HearingOutcome>(code)),
        "step" => nl::<Step>(code),
        "answer" => nl::<Answer>(code),
        "decision" => nl::<Decision>(code).or_else(|| nl::<ConsentDecision>(code)),
        "reason" => nl::<WithheldReason>(code),
        "requester" => nl::<RequesterKind>(code),
        "scope" => nl::<DestructionScope>(code),
        "refusalGround" => nl::<RefusalGround>(code),
        "kind" => nl::<HandoffKind>(code).or_else(|| nl::<OrganisationKind>(code)),
        "status" => nl::<HandoffStatus>(code)
            .or_else(|| nl::<CaseStatus>(code))
            .or_else(|| nl::<ConsentStatus>(code))
            .or_else(|| nl::<DestructionStatus>(code)),
        _ => None,
    }
}

fn label(key: &str) -> &str {
    LABELS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, label)| label)
}

fn value(v: &Value) -> Markup {
    field("", v)
}

/// A value, read as the property `key` holds it.
fn field(key: &str, v: &Value) -> Markup {
    match v {
        Value::String(s) if let Some(label) = code_label(key, s) => html! { (label) },
        Value::Null => html! { "—" },
        Value::Bool(true) => html! { "ja" },
        Value::Bool(false) => html! { "nee" },
        Value::Number(n) => html! { (n.to_string()) },
        Value::String(s) if s == WITHHELD => html! { span.withheld { "achtergehouden" } },
        Value::String(s) => html! { (s) },
        Value::Array(items) if items.is_empty() => html! { "geen" },
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => html! {
            @for (i, item) in items.iter().enumerate() {
                @if i > 0 { ", " }
                (field(key, item))
            }
        },
        Value::Array(items) => html! {
            @for item in items { div.item { (field(key, item)) } }
        },
        Value::Object(object) => html! {
            dl {
                @for (key, v) in object {
                    dt { (label(key)) }
                    dd { (field(key, v)) }
                }
            }
        },
    }
}

/// The export as a printable document.
pub fn document(export: &SubjectAccess) -> String {
    let json = export.to_json().unwrap_or(Value::Null);
    let child = &export.child;
    let title = format!(
        "Inzage in gegevens — {} {}",
        child.given_name, child.family_name
    );
    let body = html! {
        h1 { "Inzage in gegevens (AVG artikel 15)" }
        p.meta {
            "Over: " (child.given_name) " " (child.family_name)
            " · Organisatie: " (export.organisation.name)
            " · Opgesteld op: " (export.generated_at.to_rfc3339())
        }
        p {
            "Dit overzicht bevat alle gegevens die " (export.organisation.name)
            " over het kind vastlegt. Wat de wet ons toestaat achter te houden — de "
            "identiteit van een melder die niet genoemd wil worden, en gegevens over "
            "anderen — staat er als " span.withheld { "achtergehouden" }
            ", met de reden onderaan."
        }
        @for (key, title) in SECTIONS {
            section {
                h2 { (title) }
                (value(json.get(*key).unwrap_or(&Value::Null)))
            }
        }
    };
    printable_page(&title, CSS, body)
}
