//! Request handlers, one module per area. Each: extractors → one service call → render or redirect.

pub mod account;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod files;
pub mod invitations;
pub mod notices;
pub mod public;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;
