//! Hand-written statements that stay prepared on their connection.
//!
//! diesel prepares `sql_query` and `dsl::sql` text anew at every execution — it cannot know the
//! text is fixed — which costs PostgreSQL a parse and plan, and the request a round trip, each
//! time. The hot paths' statements (a command and everything that records it, as one statement)
//! are fixed text with binds, so they are built here from `'static` pieces and cached by their
//! text, as diesel caches its own queries.
//!
//! ```ignore
//! statement::<(sql_types::Uuid,)>("SELECT id FROM children WHERE id = ")
//!     .bind::<sql_types::Uuid, _>(id)
//!     .sql(" AND organisation_id = ")
//!     .bind::<sql_types::Uuid, _>(organisation)
//! ```

use std::marker::PhantomData;

use diesel::{
    QueryResult,
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    serialize::ToSql,
    sql_types::{HasSqlType, SqlType},
};

/// A statement returning rows of `ST` (a tuple of SQL types), built from `Parts`.
#[derive(Debug, Clone)]
#[must_use = "a statement does nothing until run"]
pub struct Statement<ST, Parts> {
    parts: Parts,
    returns: PhantomData<ST>,
}

/// Starts a statement with its first piece of text.
pub fn statement<ST>(sql: &'static str) -> Statement<ST, Text<Start>> {
    Statement {
        parts: Text(Start, sql),
        returns: PhantomData,
    }
}

impl<ST, Parts> Statement<ST, Parts> {
    /// A bind parameter here (`$n` in the text).
    pub fn bind<BindST, V>(self, value: V) -> Statement<ST, Bind<Parts, BindST, V>> {
        Statement {
            parts: Bind(self.parts, value, PhantomData),
            returns: PhantomData,
        }
    }

    /// More text.
    pub fn sql(self, sql: &'static str) -> Statement<ST, Text<Parts>> {
        Statement {
            parts: Text(self.parts, sql),
            returns: PhantomData,
        }
    }
}

#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Text<Prev>(Prev, &'static str);

#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Bind<Prev, BindST, V>(Prev, V, PhantomData<BindST>);

#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Start;

impl QueryFragment<Pg> for Start {
    fn walk_ast<'b>(&'b self, _out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        Ok(())
    }
}

impl<Prev: QueryFragment<Pg>> QueryFragment<Pg> for Text<Prev> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(self.1);
        Ok(())
    }
}

impl<Prev, BindST, V> QueryFragment<Pg> for Bind<Prev, BindST, V>
where
    Prev: QueryFragment<Pg>,
    Pg: HasSqlType<BindST>,
    V: ToSql<BindST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_bind_param::<BindST, V>(&self.1)
    }
}

impl<ST, Parts: QueryFragment<Pg>> QueryFragment<Pg> for Statement<ST, Parts> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Unlike diesel's `sql_query`, never marked unsafe to cache: the text is `'static`.
        self.parts.walk_ast(out)
    }
}

/// No static id: the statement cache keys it by its text and bind types.
impl<ST, Parts> QueryId for Statement<ST, Parts> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: SqlType, Parts> Query for Statement<ST, Parts> {
    type SqlType = ST;
}
