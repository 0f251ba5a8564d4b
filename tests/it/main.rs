//! The integration test binary: every test starts the real app and speaks HTTP to it.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on anything unexpected"
)]

mod accessibility;
mod accounts;
mod admin;
mod app_passwords;
mod auth;
mod backup;
mod blog;
mod browser;
mod calendar;
mod calendar_approval;
mod calendar_import;
mod calendar_oracle;
mod calendar_reminders;
mod calendar_series;
mod calendar_views;
mod calendar_zones;
mod cli;
mod crash;
mod csrf;
mod dav;
mod facilities;
mod file_store;
mod files;
mod full_disk;
mod head;
mod home;
mod mail;
mod migrations;
mod people;
mod pictures;
mod query_budget;
mod reachability;
mod room_posts;
mod rooms;
mod safety;
mod safety_crash;
mod search;
mod security;
mod subsonic;
mod support;
mod upgrade;
mod wordpress;
