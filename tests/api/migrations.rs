//! Migrations are reversible (down really undoes up), and the schema keeps its own rules.

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use schakel::db;

use crate::harness::TestDb;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Everything a migration can create in the public schema, one line per object or column.
async fn schema_outline(conn: &mut AsyncPgConnection) -> Vec<String> {
    let mut lines: Vec<Line> = diesel::sql_query(
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line
           FROM information_schema.columns WHERE table_schema = 'public'
         UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public'
         UNION ALL SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal
         UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace
         UNION ALL SELECT 'type ' || typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')",
    )
    .load(conn)
    .await
    .unwrap();
    lines.sort();
    lines
        .into_iter()
        .map(|l| l.line)
        .filter(|l| !l.contains("__diesel_schema_migrations"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_go_up_down_and_up_again() {
    let database = TestDb::empty().await;
    let mut conn = database.connect().await;
    assert!(schema_outline(&mut conn).await.is_empty());

    let applied = db::run_migrations(&database.url).await.unwrap();
    assert_eq!(applied.len(), db::embedded_migrations().len());
    let after_up = schema_outline(&mut conn).await;
    assert!(
        after_up
            .iter()
            .any(|l| l.starts_with("column organisations.id"))
    );

    let reverted = db::revert_all_migrations(&database.url).await.unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert_eq!(
        schema_outline(&mut conn).await,
        Vec::<String>::new(),
        "down.sql must undo everything up.sql created"
    );

    db::run_migrations(&database.url).await.unwrap();
    assert_eq!(schema_outline(&mut conn).await, after_up);
    assert!(
        db::pending_migrations(&database.url)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_foreign_key_is_indexed() {
    let database = TestDb::migrated().await;
    let mut conn = database.connect().await;
    // A foreign key is covered when some index starts with exactly its columns.
    let unindexed: Vec<Line> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text || ' (' || c.conname || ')' AS line
           FROM pg_constraint c
          WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                 WHERE i.indrelid = c.conrelid
                   AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index: {unindexed:?}"
    );
}
