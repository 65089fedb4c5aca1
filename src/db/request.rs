//! The database as one request uses it.
//!
//! Handlers take a [`Db`] and run their work in [`Db::transaction`]. Normally each transaction
//! gets a pooled connection of its own. For a `POST` with an `Idempotency-Key` the idempotency
//! middleware has already opened the key's transaction: the handler's work then runs inside it
//! (as a savepoint), and the key's outcome is written before the one commit. So a write and the
//! record of its outcome commit together or not at all — a crash between them cannot exist.

use std::sync::Arc;

use diesel::result::Error as DieselError;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use poem::{FromRequest, Request, RequestBody};
use tokio::sync::Mutex;

use crate::{
    AppState,
    db::{Conn, Pool},
    error::AppError,
};

/// Work to run in a transaction: an async closure over the connection, whose future is `Send`
/// (what a poem handler needs). diesel-async keeps its equivalent bound private.
pub trait Work<'r, T>:
    AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<T, AppError>
    + FnOnce(&'r mut AsyncPgConnection) -> <Self as Work<'r, T>>::Fut
{
    type Fut: Future<Output = Result<T, AppError>> + Send;
}

impl<'r, T, F, Fut> Work<'r, T> for F
where
    F: AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<T, AppError>
        + FnOnce(&'r mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = Result<T, AppError>> + Send,
{
    type Fut = Fut;
}

/// The request's way to the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// The connection of a transaction the request already runs in (an idempotent `POST`).
    enclosing: Option<Arc<Mutex<Conn>>>,
}

impl Db {
    /// A fresh pooled connection per transaction.
    pub fn pooled(pool: Pool) -> Self {
        Self {
            pool,
            enclosing: None,
        }
    }

    /// Every transaction runs inside the one already open on `conn`.
    pub(crate) fn within(pool: Pool, conn: Arc<Mutex<Conn>>) -> Self {
        Self {
            pool,
            enclosing: Some(conn),
        }
    }

    /// Runs `work` in a transaction: everything it writes commits together or not at all.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: for<'r> Work<'r, T> + Send,
        T: Send,
    {
        self.run(true, work).await
    }

    /// Runs `work` on a connection without a transaction of its own — for a hot path whose one
    /// write is a single statement holding everything that records it (atomic by itself, so a
    /// `BEGIN` and a `COMMIT` would only cost two round trips), and whose reads before it are
    /// guarded by that statement (it writes nothing unless what was read still holds). Inside
    /// an idempotent `POST` it runs in the request's transaction like any other work.
    pub async fn single_statement<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: for<'r> Work<'r, T> + Send,
        T: Send,
    {
        self.run(false, work).await
    }

    async fn run<T, F>(&self, own_transaction: bool, work: F) -> Result<T, AppError>
    where
        F: for<'r> Work<'r, T> + Send,
        T: Send,
    {
        match &self.enclosing {
            Some(conn) => in_transaction(&mut *conn.lock().await, work).await,
            None => {
                let mut conn = self.pool.get().await?;
                if own_transaction {
                    in_transaction(&mut conn, work).await
                } else {
                    work(&mut conn).await
                }
            }
        }
    }
}

/// As diesel-async's `transaction`: begin (a savepoint when one is open), run, commit or roll
/// back.
async fn in_transaction<T, F>(conn: &mut AsyncPgConnection, work: F) -> Result<T, AppError>
where
    F: for<'r> Work<'r, T>,
{
    AnsiTransactionManager::begin_transaction(conn).await?;
    match work(&mut *conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => match AnsiTransactionManager::rollback_transaction(conn).await {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

impl<'a> FromRequest<'a> for Db {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        if let Some(db) = req.extensions().get::<Db>() {
            return Ok(db.clone());
        }
        let state = req
            .data::<Arc<AppState>>()
            .ok_or_else(|| AppError::internal("application state missing from the request"))?;
        Ok(Db::pooled(state.pool.clone()))
    }
}
