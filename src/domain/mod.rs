//! Pure rules of the domain: no IO, exhaustively table-tested.

pub mod organisation;
