//! What every handler needs beside its input and its caller: the settings, the database and the
//! request it serves (for the access log), injected as one extractor — as warpgate injects its
//! request context — so a handler's signature names only what is particular to it.

use std::sync::Arc;

use poem::{FromRequest, Request, RequestBody};

use crate::{
    AppState,
    audit::{Actor, RequestMeta},
    auth::Principal,
    db::Db,
    error::AppError,
};

pub struct Ctx {
    pub state: Arc<AppState>,
    /// The database: run each request's work in one [`Db::transaction`].
    pub db: Db,
    pub request: RequestMeta,
}

impl Ctx {
    /// Who acts in this request, for the access log and the events it writes.
    pub fn actor<'a>(&'a self, principal: &'a Principal) -> Actor<'a> {
        Actor {
            principal,
            request: &self.request,
        }
    }
}

impl<'a> FromRequest<'a> for Ctx {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let state = req
            .data::<Arc<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::internal("application state missing from the request"))?;
        let request = req
            .extensions()
            .get::<RequestMeta>()
            .cloned()
            .ok_or_else(|| AppError::internal("request metadata missing from the request"))?;
        let db = Db::from_request(req, body).await?;
        Ok(Self { state, db, request })
    }
}
