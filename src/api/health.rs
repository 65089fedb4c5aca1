//! Liveness and readiness.

use std::sync::Arc;

use diesel_async::SimpleAsyncConnection;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json, types::Example};

use crate::{
    AppState,
    api::{
        ApiTags,
        problem::{ApiResult, Unauthenticated},
    },
    error::AppError,
};

#[derive(Object)]
#[oai(example)]
pub struct Health {
    /// `up` when the check passed.
    pub status: String,
}

impl Health {
    fn up() -> Self {
        Self {
            status: "up".into(),
        }
    }
}

impl Example for Health {
    fn example() -> Self {
        Self::up()
    }
}

#[derive(ApiResponse)]
pub enum LiveResponse {
    /// The process is running.
    #[oai(status = 200)]
    Ok(Json<Health>),
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The service can answer requests: the database is reachable.
    #[oai(status = 200)]
    Ok(Json<Health>),
}

pub struct HealthApi;

#[OpenApi(prefix_path = "/health", tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// Answers 200 while the process runs. Needs no token and touches nothing else; restart the
    /// process when it stops answering.
    #[oai(path = "/live", method = "get", operation_id = "getLiveness")]
    async fn live(&self) -> LiveResponse {
        LiveResponse::Ok(Json(Health::up()))
    }

    /// Readiness
    ///
    /// Answers 200 when the database is reachable, 503 (with `Retry-After`) when it is not.
    /// Needs no token; route traffic only to ready instances.
    #[oai(path = "/ready", method = "get", operation_id = "getReadiness")]
    async fn ready(
        &self,
        state: Data<&Arc<AppState>>,
    ) -> ApiResult<ReadyResponse, Unauthenticated> {
        let mut conn = state.pool.get().await?;
        conn.batch_execute("SELECT 1").await.map_err(|err| {
            AppError::unavailable("The database does not answer.").with_source(err)
        })?;
        Ok(ReadyResponse::Ok(Json(Health::up())))
    }
}
