//! The integration test binary: every test starts the real app and speaks HTTP to it.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on anything unexpected"
)]

mod admin;
mod auth;
mod blog;
mod browser;
mod cli;
mod csrf;
mod mail;
mod migrations;
mod room_posts;
mod rooms;
mod search;
mod security;
mod support;
