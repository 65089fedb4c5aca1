//! The figures as `text/csv` (one line per group, then the total and the comparison) and as a
//! printable HTML report for the meeting's screen, with bar charts drawn by plotters as inline
//! SVG: no scripts, no external resources, every value escaped.

use maud::{PreEscaped, html};
use plotters::prelude::*;
use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};

use super::Report;
use crate::api::shared::printable_page;
use crate::domain::figures::{Count, Duration, GroupBy, Scope, Share, Shown};

/// How a hidden count (and what rests on it) is shown.
const HIDDEN: &str = "<5";

/// A `text/csv` body (RFC 4180, UTF-8, with a header line).
pub struct Csv(pub String);

impl Payload for Csv {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("text/csv")
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }
}

impl IntoResponse for Csv {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .header("Content-Disposition", "inline; filename=\"figures.csv\"")
            .body(self.0)
    }
}

impl ApiResponse for Csv {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// A column of the CSV and of the report's table.
#[derive(Clone, Copy)]
enum Column {
    Count(Count),
    Median(Duration),
    P90(Duration),
    Share(Share),
}

fn columns() -> Vec<Column> {
    let mut columns: Vec<Column> = Count::all().into_iter().map(Column::Count).collect();
    for duration in Duration::ALL {
        columns.push(Column::Median(duration));
        columns.push(Column::P90(duration));
    }
    columns.extend(Share::ALL.into_iter().map(Column::Share));
    columns
}

impl Column {
    fn code(self) -> String {
        match self {
            Column::Count(c) => c.code(),
            Column::Median(d) => format!("{}_median", d.code()),
            Column::P90(d) => format!("{}_p90", d.code()),
            Column::Share(s) => s.code().to_owned(),
        }
    }

    fn label_nl(self) -> String {
        match self {
            Column::Count(c) => c.label_nl(),
            Column::Median(d) => format!("{}, mediaan", d.label_nl()),
            Column::P90(d) => format!("{}, 90e percentiel", d.label_nl()),
            Column::Share(s) => format!("{} (aandeel)", s.label_nl()),
        }
    }

    /// The cell as text: a number, or `<5` when hidden.
    fn cell(self, shown: &Shown) -> String {
        let spread = |d: Duration| shown.durations.get(&d).copied().flatten();
        match self {
            Column::Count(c) => shown.count(c).map(|n| n.to_string()),
            Column::Median(d) => spread(d).map(|(median, _)| format!("{median:.1}")),
            Column::P90(d) => spread(d).map(|(_, p90)| format!("{p90:.1}")),
            Column::Share(s) => shown
                .shares
                .get(&s)
                .copied()
                .flatten()
                .map(|v| format!("{v:.3}")),
        }
        .unwrap_or_else(|| HIDDEN.to_owned())
    }
}

/// The rows in order: each group, the total, the comparison.
fn rows(report: &Report) -> Vec<(String, String, &Shown)> {
    let mut rows: Vec<(String, String, &Shown)> = report
        .table
        .groups
        .iter()
        .map(|g| (g.key.clone(), g.label.clone(), &g.figures))
        .collect();
    rows.push(("total".into(), "Totaal".into(), &report.table.total));
    if let Some(comparison) = &report.comparison {
        let region = report.region.clone().unwrap_or_default();
        rows.push((
            "comparison".into(),
            format!("Scholen in regio {region}"),
            comparison,
        ));
    }
    rows
}

/// A spreadsheet opens a cell starting with `=`, `+`, `-` or `@` as a formula: a name never is.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub fn csv(report: &Report) -> Csv {
    let columns = columns();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["period".to_owned(), "group".to_owned(), "label".to_owned()];
    header.extend(columns.iter().map(|c| c.code()));
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(&header);
    for (key, label, shown) in rows(report) {
        let mut record = vec![report.period.code.clone(), inert(&key), inert(&label)];
        record.extend(columns.iter().map(|c| c.cell(shown)));
        let _ = writer.write_record(&record);
    }
    Csv(String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default())
}

pub fn html(report: &Report) -> String {
    let title = match (&report.scope, &report.organisation) {
        (Scope::National, _) | (_, None) => format!("Landelijke cijfers {}", report.period.code),
        (_, Some(org)) => format!("Cijfers {} — {}", org.name, report.period.code),
    };
    let rows = rows(report);
    let grouping = match report.group_by {
        GroupBy::Month => "per maand",
        GroupBy::School => "per verwijzende school",
        GroupBy::Region => "per regio",
    };
    let charts: Vec<String> = Share::ALL
        .iter()
        .map(|share| {
            let bars: Vec<(String, Option<f64>)> = rows
                .iter()
                .map(|(_, label, shown)| {
                    (label.clone(), shown.shares.get(share).copied().flatten())
                })
                .collect();
            bar_chart(share.label_nl(), &bars)
        })
        .collect();
    let body = html! {
        h1 { (title) }
        p {
            "Overdrachten verstuurd van " (report.period.first_day.format("%d-%m-%Y"))
            " tot en met " (report.period.last_day.format("%d-%m-%Y")) ", " (grouping)
            ". Aantallen onder de 5 staan er als " code { (HIDDEN) } ", net als wat daarop "
            "rust of eruit af te leiden is. Opgesteld "
            (report.generated_at.format("%d-%m-%Y %H:%M")) " UTC."
        }
        h2 { "Aandelen" }
        @for chart in &charts {
            figure { (PreEscaped(chart)) }
        }
        h2 { "Alle cijfers" }
        table {
            thead {
                tr {
                    th { "" }
                    @for (_, label, _) in &rows { th { (label) } }
                }
            }
            tbody {
                @for column in columns() {
                    tr {
                        th scope="row" { (column.label_nl()) }
                        @for (_, _, shown) in &rows { td { (column.cell(shown)) } }
                    }
                }
            }
        }
    };
    printable_page(&title, STYLE, body)
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;font-size:0.85em}th,td{border:1px solid #ccc;padding:0.2em 0.5em}\
td{text-align:right}thead th{background:#eee}figure{margin:1em 0}\
@media print{figure{break-inside:avoid}}";

/// A horizontal bar per row, 0–100 %; a hidden share is a `<5` without a bar.
fn bar_chart(title: &str, bars: &[(String, Option<f64>)]) -> String {
    const WIDTH: u32 = 720;
    const LABEL: i32 = 260;
    const BAR: i32 = 360;
    let height = 40 + 26 * bars.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let text = |size: u32| TextStyle::from(("sans-serif", size).into_font()).color(&BLACK);
        // Drawing into a String cannot fail.
        let _ = root.fill(&WHITE);
        let _ = root.draw_text(title, &text(16), (4, 6));
        for (i, (label, share)) in bars.iter().enumerate() {
            let y = 36 + 26 * i as i32;
            let _ = root.draw_text(label, &text(13), (4, y + 4));
            let _ = root.draw(&Rectangle::new(
                [(LABEL, y), (LABEL + BAR, y + 18)],
                RGBColor(238, 238, 238).filled(),
            ));
            match share {
                Some(share) => {
                    let end = LABEL + (BAR as f64 * share.clamp(0.0, 1.0)).round() as i32;
                    let _ = root.draw(&Rectangle::new(
                        [(LABEL, y), (end, y + 18)],
                        RGBColor(0, 102, 153).filled(),
                    ));
                    let _ = root.draw_text(
                        &format!("{:.0} %", share * 100.0),
                        &text(13),
                        (LABEL + BAR + 8, y + 4),
                    );
                }
                None => {
                    let _ = root.draw_text(HIDDEN, &text(13), (LABEL + BAR + 8, y + 4));
                }
            }
        }
        let _ = root.present();
    }
    svg
}
