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
