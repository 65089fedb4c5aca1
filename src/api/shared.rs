//! Small representations shared by several resources.

use poem_openapi::Object;
use uuid::Uuid;

/// A professional, as recorded.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct Professional {
    /// Their id at their identity provider (`sub`).
    pub sub: String,
    pub name: String,
}

/// A link to a resource.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct ResourceLink {
    /// The kind of resource, e.g. `signal`.
    #[oai(rename = "type")]
    pub resource_type: String,
    pub id: Uuid,
    /// Where to read it (relative to the server root).
    pub href: String,
}

impl ResourceLink {
    pub fn new(resource_type: &str, id: Uuid, href: String) -> Self {
        Self {
            resource_type: resource_type.to_owned(),
            id,
            href,
        }
    }
}

/// A self-contained printable HTML document in Dutch: its title, a stylesheet and the body —
/// no scripts, no external resources; maud escapes every value.
pub fn printable_page(title: &str, style: &str, body: maud::Markup) -> String {
    use maud::{DOCTYPE, PreEscaped, html};
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(style)) }
            }
            body { (body) }
        }
    }
    .into_string()
}
