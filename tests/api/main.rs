//! The one integration-test binary: every test drives the real application in-process on a
//! database of its own (see `harness`), except `cli` and `crash`, which start the real binary.

mod access_log;
mod auth;
mod case_reviews;
mod cases;
mod children;
mod cli;
mod consents;
mod crash;
mod deployment;
mod directory;
mod errors;
mod events;
mod feedback;
mod figures;
mod forwarding;
mod handoffs;
mod harness;
mod hostile;
mod identity;
mod integration;
mod kernteams;
mod lifecycle;
mod limits;
mod migrations;
mod openapi;
mod organisations;
mod partner_links;
mod reference;
mod seals;
mod signals;
mod story;
mod timeline;
mod transfers;
mod webhook_destinations;
mod webhooks;
