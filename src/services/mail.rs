//! Queues mail: renders `templates/email/<name>/{subject,body}.txt` in the recipient's language and
//! inserts an outbox row in the caller's transaction. Nothing here sends; the jobs loop does.

use crate::db::DbConn;
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::models::{now, outbox};
use crate::templates::Templates;

/// Renders and queues one mail to `to_addr`, remembering the recipient account so the sender can skip
/// disabled users.
pub fn queue(
    conn: &mut DbConn,
    templates: &Templates,
    name: &str,
    lang: Lang,
    user_id: Option<i64>,
    to_addr: &str,
    mut context: tera::Context,
) -> AppResult<()> {
    context.insert("lang", lang.code());
    let subject = templates.render(&format!("email/{name}/subject.txt"), &context)?;
    let body = templates.render(&format!("email/{name}/body.txt"), &context)?;
    let at = now();
    outbox::enqueue(
        conn,
        &outbox::NewMail {
            user_id,
            to_addr,
            subject: subject.trim(),
            body_text: &body,
            created_at: at,
            next_attempt_at: at,
        },
    )?;
    Ok(())
}
