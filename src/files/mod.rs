//! What the room cabinets need that is neither a use case nor the database: the rules for a
//! file or folder name (`names`), which types are stored and shown inline (`mime`), reading the tags
//! of audio files (`audio`), and writing a folder as a zip while it is sent (`zipstream`). Pure
//! helpers below `services::files`: no database, no permissions, no actix.

pub mod audio;
pub mod mime;
pub mod names;
pub mod preview;
pub mod zipstream;
