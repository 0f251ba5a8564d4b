//! Flash messages: a translation key carried over one redirect in a cookie, shown once by the next page.
//! Only the keys listed here may be carried, so a cookie cannot make a page show arbitrary UI text.

use actix_web::dev::ServiceRequest;

use crate::i18n::{self, Lang};

/// The cookie that carries a flash message to the next page.
pub const COOKIE: &str = "yui_flash";

/// Flash messages that may be carried over a redirect (each is an i18n key).
pub const FLASH_KEYS: &[&str] = &[
    "flash.logged_in",
    "flash.booked",
    "flash.booking_pending",
    "flash.booking_cancelled",
    "flash.booking_approved",
    "flash.booking_rejected",
    "flash.facility_saved",
    "flash.facility_deleted",
    "flash.logged_out",
    "flash.saved",
    "flash.password_changed",
    "flash.email_change_sent",
    "flash.password_reset_done",
    "flash.reset_mail_sent",
    "flash.member_created",
    "flash.member_updated",
    "flash.post_published",
    "flash.post_deleted",
    "flash.sessions_ended",
    "flash.setup_done",
    "flash.room_created",
    "flash.room_joined",
    "flash.room_left",
    "flash.room_requested",
    "flash.post_draft_saved",
    "flash.post_pending",
    "flash.post_approved",
    "flash.post_sent_back",
    "flash.note_required",
    "flash.invitation_sent",
    "flash.comment_added",
    "flash.comment_pending",
    "flash.comment_empty",
    "flash.comment_approved",
    "flash.comment_edited",
    "flash.comment_edited_pending",
    "flash.comment_deleted",
    "flash.app_password_revoked",
    "flash.members_imported",
    "flash.folder_created",
    "flash.files_uploaded",
    "flash.event_saved",
    "flash.event_deleted",
    "flash.event_waiting",
    "flash.event_approved",
    "flash.event_sent_back",
    "flash.occurrence_deleted",
    "flash.reminder_added",
    "flash.reminder_invalid",
    "flash.reminder_removed",
    "flash.feed_revoked",
    "flash.no_files",
    "flash.renamed",
    "flash.copied",
    "flash.moved",
    "flash.trashed",
    "flash.restored",
    "flash.safety_started",
    "flash.safety_answered",
    "flash.safety_proxy",
    "flash.reminded",
    "flash.safety_closed",
    "flash.notice_sent",
    "flash.notice_answered",
    "flash.notice_closed",
    "flash.address_added",
    "flash.address_removed",
    "flash.test_sent",
    "flash.address_verified",
    "flash.test_everyone_sent",
    "flash.picture_saved",
    "flash.picture_removed",
];

/// The flash message the request carries, if it names one of `FLASH_KEYS`.
pub fn from_request(req: &ServiceRequest) -> Option<&'static str> {
    let cookie = req.cookie(COOKIE)?;
    let key = cookie.value();
    // Only keys under `flash.` may be carried, so a cookie cannot pick arbitrary UI text.
    if !key.starts_with("flash.") || i18n::lookup(Lang::En, key).is_none() {
        return None;
    }
    FLASH_KEYS.iter().copied().find(|f| *f == key)
}

#[cfg(test)]
mod tests {
    use super::FLASH_KEYS;

    /// Every flash key a handler sends is carried (a key missing here is silently dropped, and the
    /// next page says nothing) and has its text in both languages.
    #[test]
    fn every_flash_key_the_handlers_send_is_carried_and_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/handlers");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            for piece in source.split("\"flash.").skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let key = format!("flash.{name}");
                if !piece[name.len()..].starts_with('"') {
                    continue;
                }
                if !FLASH_KEYS.contains(&key.as_str()) {
                    missing.push(format!("{key} ({})", path.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "flash keys not in FLASH_KEYS: {missing:#?}"
        );
        for key in FLASH_KEYS {
            for lang in [crate::i18n::Lang::Ja, crate::i18n::Lang::En] {
                assert!(
                    crate::i18n::lookup(lang, key).is_some(),
                    "{key} has no {lang:?} text"
                );
            }
        }
    }
}
