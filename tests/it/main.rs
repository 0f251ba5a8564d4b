//! The integration test binary: every test starts the real app and speaks HTTP to it.

mod admin;
mod auth;
mod blog;
mod browser;
mod csrf;
mod mail;
mod migrations;
mod security;
mod support;
