//! Yui (結): a self-hosted blog + groupware in one binary.
//!
//! Layers, imports pointing one way: `cli → web → services → models/db/mail`.

pub mod app;
pub mod assets;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod files;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod markdown;
pub mod models;
pub mod sample_audio;
pub mod secret;
pub mod services;
pub mod storage;
pub mod templates;
pub mod textsearch;
pub mod web;
