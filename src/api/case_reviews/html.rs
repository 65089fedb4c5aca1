//! A released case review as a printable document for the ontwikkeltafel: both sides'
//! chronologies side by side in days relative to the report, then their reflections. No
//! scripts, no external resources, every value escaped (maud).

use maud::{Markup, html};

use super::dto::{CaseReview, ReviewPart};
use crate::api::shared::printable_page;
use crate::domain::{case_review::ReviewStatus, reference::Labelled};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:60em}\
table{border-collapse:collapse;width:100%;font-size:0.9em}th,td{border:1px solid #ccc;\
padding:0.2em 0.5em;text-align:left}td.day{text-align:right;width:4em}\
section{break-inside:avoid;margin-bottom:2em}";

pub fn document(review: &CaseReview) -> String {
    let title = format!(
        "Casusbespreking — {} en {}",
        review.school.name, review.veilig_thuis.name
    );
    let body = html! {
        h1 { (title) }
        p {
            "Status: " (review.status.label_nl()) ". "
            @if review.status != ReviewStatus::Released {
                "Het deel van de andere kant staat hier zodra beide kanten hun deel hebben vrijgegeven. "
            }
            "Dagen tellen vanaf de melding (dag 0). Rollen, geen namen."
        }
        @for part in &review.parts { (part_section(part)) }
    };
    printable_page(&title, STYLE, body)
}

fn part_section(part: &ReviewPart) -> Markup {
    html! {
        section {
            h2 { (part.side.label_nl()) ": " (part.organisation.name) }
            table {
                thead { tr { th { "Dag" } th { "Gebeurtenis" } th { "Wat" } th { "Door" } } }
                tbody {
                    @for line in &part.chronology {
                        tr {
                            td class="day" { (line.day) }
                            td { (line.event.label_nl()) }
                            td { (line.code.as_deref().unwrap_or("")) }
                            td { (line.by.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            h3 { "Wat ging goed" }
            p { (part.went_well.as_deref().unwrap_or("—")) }
            h3 { "Wat kan beter" }
            p { (part.could_be_better.as_deref().unwrap_or("—")) }
            @if !part.themes.is_empty() {
                h3 { "Thema's" }
                ul { @for theme in &part.themes { li { (theme.label_nl()) } } }
            }
        }
    }
}
