//! What a change leaves behind, written in the change's own transaction: access-log entries,
//! outbox events and entries on the child's timeline. Handlers collect them and write them once,
//! so no write path can forget one of the three.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::{
    audit::{self, Access, Actor},
    db::timeline::{self, TimelineEntry},
    events::{self, Event},
};

#[derive(Default)]
#[must_use = "effects do nothing until written"]
pub struct Effects {
    accesses: Vec<Access>,
    events: Vec<Event>,
    timeline: Vec<TimelineEntry>,
}

impl Effects {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn access(mut self, access: Access) -> Self {
        self.accesses.push(access);
        self
    }

    pub fn accesses(mut self, accesses: impl IntoIterator<Item = Access>) -> Self {
        self.accesses.extend(accesses);
        self
    }

    pub fn event(mut self, event: Event) -> Self {
        self.events.push(event);
        self
    }

    pub fn timeline(mut self, entry: TimelineEntry) -> Self {
        self.timeline.push(entry);
        self
    }

    /// Both sets of effects.
    pub fn merge(mut self, other: Effects) -> Self {
        self.accesses.extend(other.accesses);
        self.events.extend(other.events);
        self.timeline.extend(other.timeline);
        self
    }

    /// Writes everything; call it inside the transaction of the change.
    pub async fn write(self, conn: &mut AsyncPgConnection, actor: Actor<'_>) -> QueryResult<()> {
        audit::record(conn, actor, &self.accesses).await?;
        events::emit(conn, &self.events).await?;
        timeline::record(conn, actor.principal, &self.timeline).await?;
        Ok(())
    }
}
