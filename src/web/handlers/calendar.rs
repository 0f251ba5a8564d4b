//! Calendars: a room's month grid and agenda, `/calendar` across the member's rooms, events (form,
//! page, delete, skip one occurrence), and the secret iCalendar feeds (`/ical/{token}.ics`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::db::types::EventId;
use crate::error::AppError;
use crate::services::calendar::approval;
use crate::services::calendar::reminders::{self, ReminderForm};
use crate::services::calendar::series::{self, Scope};
use crate::services::calendar::{self, EventForm};
use crate::services::form::{self, FormOutcome};
use crate::services::rooms::{self, RoomCtx};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::calendar::{
    EventFormPage, EventShowPage, FeedPage, ImportPage, MonthPage, WeekPage,
};
use crate::web::views::rooms::room_item;
use crate::web::views::{Errors, Layout};

/// `?month=YYYY-MM` (anything else is 404, not a query); `?date=YYYY-MM-DD` for the new-event form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
    date: Option<String>,
}

impl MonthQuery {
    fn month(&self, ctx: &Ctx) -> Result<chrono::NaiveDate, AppError> {
        let Some(m) = &self.month else {
            return Ok(calendar::this_month(ctx.zone()));
        };
        let (y, mo) = m.split_once('-').ok_or(AppError::NotFound)?;
        let (y, mo) = (y.parse().ok(), mo.parse().ok());
        match (y, mo) {
            (Some(y), Some(mo)) if m.len() == 7 => {
                calendar::month_start(y, mo).ok_or(AppError::NotFound)
            }
            _ => Err(AppError::NotFound),
        }
    }
}

/// `?date=YYYY-MM-DD` of a week view (anything else is 404); none = today.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct WeekQuery {
    date: Option<String>,
}

impl WeekQuery {
    fn day(&self, ctx: &Ctx) -> Result<chrono::NaiveDate, AppError> {
        match &self.date {
            None => Ok(calendar::today(ctx.zone())),
            Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .filter(|d| calendar::month_start(chrono::Datelike::year(d), 1).is_some())
                .ok_or(AppError::NotFound),
        }
    }
}

/// `GET /rooms/{room}/calendar/week[?date=...]`: a room's week, a day per row.
pub async fn room_week(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let day = query.day(&ctx)?;
    let (actor, site) = (ctx.actor(), ctx.site.clone());
    let view = state
        .core
        .db
        .read(move |conn| calendar::room_week(conn, actor.as_ref(), &slug, day, &site))
        .await?;
    let base = format!("/rooms/{}/calendar", view.rooms[0].room.slug);
    let page = WeekPage::new(
        Layout::new(&ctx, &format!("{base}/week")),
        &ctx.site,
        &view,
        &base,
        true,
    );
    render::ok(&state, &page)
}

/// `GET /calendar/week[?date=...&room=...]`: the member's week across their calendars.
pub async fn my_week(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx(user.0.clone());
    let day = query.day(&ctx)?;
    let (actor, site) = (user.actor(), ctx.site.clone());
    let only = filter_rooms(&req);
    let view = state
        .core
        .db
        .read(move |conn| calendar::combined_week(conn, &actor, day, &site, &only))
        .await?;
    let page = WeekPage::new(
        Layout::new(&ctx, "/calendar/week"),
        &ctx.site,
        &view,
        "/calendar",
        false,
    );
    render::ok(&state, &page)
}

/// `GET /rooms/{room}/calendar`.
pub async fn room_calendar(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let month = query.month(&ctx)?;
    let (actor, site) = (ctx.actor(), ctx.site.clone());
    let view = state
        .core
        .db
        .read(move |conn| calendar::room_month(conn, actor.as_ref(), &slug, month, &site))
        .await?;
    let base = format!("/rooms/{}/calendar", view.rooms[0].room.slug);
    let page = MonthPage::new(Layout::new(&ctx, &base), &ctx.site, &view, &base, true);
    render::ok(&state, &page)
}

/// The rooms `/calendar`'s filter checked (`?room=a&room=b`: repeated, so read from the query
/// string itself); a malformed slug is left out.
fn filter_rooms(req: &HttpRequest) -> Vec<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == "room")
        .map(|(_, v)| v.into_owned())
        .filter(|v| room_slug(v).is_ok())
        .take(500)
        .collect()
}

/// `GET /calendar[?room=...]`: every room calendar the member reads (or those the filter checked),
/// a colour per room.
pub async fn my_calendar(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, AppError> {
    let ctx = Ctx(user.0.clone());
    let month = query.month(&ctx)?;
    let (actor, site) = (user.actor(), ctx.site.clone());
    let only = filter_rooms(&req);
    let view = state
        .core
        .db
        .read(move |conn| calendar::combined_month(conn, &actor, month, &site, &only))
        .await?;
    let page = MonthPage::new(
        Layout::new(&ctx, "/calendar"),
        &ctx.site,
        &view,
        "/calendar",
        false,
    );
    render::ok(&state, &page)
}

fn form_page(
    user: &CurrentUser,
    ctx: &RoomCtx,
    id: Option<EventId>,
    form: &EventForm,
    errors: Errors,
) -> EventFormPage {
    let id = id.map(|i| i.0);
    let layout = Layout::new(user.ctx(), &EventFormPage::path(&ctx.room.slug, id));
    EventFormPage::new(layout, ctx, id, form, errors)
}

/// `GET /rooms/{room}/calendar/events/new`.
pub async fn new_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let ctx = state
        .core
        .db
        .read(move |conn| calendar::room_for_new_event(conn, &actor, &slug))
        .await?;
    // A new event is set on its author's clock.
    let zone = user.ctx().zone();
    let day = query
        .date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| calendar::this_month(zone).max(calendar::today(zone)));
    let form = EventForm::on_day(day, zone);
    render::ok(
        &state,
        &form_page(&user, &ctx, None, &form, Errors::default()),
    )
}

/// `POST /rooms/{room}/calendar/events`.
pub async fn create_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<EventForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let (s, f, core) = (slug.clone(), form.clone(), state.core.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| calendar::create(&core, conn, &actor, &s, &f, &site),
                |conn| calendar::room_for_new_event(conn, &actor, &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved((id, waiting)) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/calendar/events/{id}"),
            saved_flash(waiting),
        )),
        FormOutcome::Invalid { errors, page } => {
            render::invalid(&state, &form_page(&user, &page, None, &form, errors.into()))
        }
    }
}

/// The flash after an event was saved: saved, or saved and waiting for approval.
fn saved_flash(waiting: bool) -> &'static str {
    if waiting {
        "flash.event_waiting"
    } else {
        "flash.event_saved"
    }
}

/// Which occurrence of a series a page or form is about, and the scope of a change.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OccurrenceQuery {
    /// The occurrence's original start (`recur::exdate_value`).
    #[serde(default)]
    at: Option<String>,
    /// `this`, `following` or `all` (empty = all).
    #[serde(default)]
    scope: String,
}

/// `GET /rooms/{room}/calendar/events/{id}[?at=...]`: the event, or one occurrence of a series.
pub async fn show_event(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
    query: web::Query<OccurrenceQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, site) = (ctx.actor(), ctx.site.clone());
    let at = query.into_inner().at;
    let p = state
        .core
        .db
        .read(move |conn| {
            calendar::show(
                conn,
                actor.as_ref(),
                &slug,
                EventId(id),
                at.as_deref(),
                &site,
            )
        })
        .await?;
    let path = format!("/rooms/{}/calendar/events/{id}", p.ctx.room.slug);
    render::ok(&state, &EventShowPage::new(Layout::new(&ctx, &path), &p))
}

/// `GET /rooms/{room}/calendar/events/{id}/event.ics`: the event alone, to add to a calendar app.
pub async fn event_ics(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, base) = (ctx.actor(), state.core.config.base_url());
    let ics = state
        .core
        .db
        .read(move |conn| calendar::event_ics(conn, actor.as_ref(), &slug, EventId(id), &base))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"event-{id}.ics\""),
        ))
        .body(ics))
}

/// `GET /rooms/{room}/calendar/events/{id}/edit[?scope=this|following|all&at=...]`.
pub async fn edit_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    query: web::Query<OccurrenceQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let q = query.into_inner();
    let scope = Scope::parse(&q.scope).ok_or(AppError::NotFound)?;
    let key = q.at.unwrap_or_default();
    let (ctx, form) = state
        .core
        .db
        .read(move |conn| series::edit_form(conn, &actor, &slug, EventId(id), scope, &key))
        .await?;
    render::ok(
        &state,
        &form_page(&user, &ctx, Some(EventId(id)), &form, Errors::default()),
    )
}

/// `POST /rooms/{room}/calendar/events/{id}`: changes the event or the whole series.
pub async fn update_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<EventForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (id, form) = (EventId(id), form.into_inner());
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let (s, f, core) = (slug.clone(), form.clone(), state.core.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| series::update_scoped(&core, conn, &actor, &s, id, &f, &site),
                |conn| rooms::load(conn, Some(&actor), &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved((shown, waiting)) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/calendar/events/{shown}"),
            saved_flash(waiting),
        )),
        FormOutcome::Invalid { errors, page } => render::invalid(
            &state,
            &form_page(&user, &page, Some(id), &form, errors.into()),
        ),
    }
}

/// `POST /rooms/{room}/calendar/events/{id}/delete`: the event, or with `scope` and `at` one
/// occurrence of a series or this and the following ones.
pub async fn delete_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<OccurrenceQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    let f = form.into_inner();
    let scope = Scope::parse(&f.scope).ok_or(AppError::NotFound)?;
    let key = f.at.unwrap_or_default();
    state
        .core
        .db
        .write(move |conn| series::delete_scoped(conn, &actor, &s, EventId(id), scope, &key))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/calendar"),
        "flash.event_deleted",
    ))
}

/// `POST /rooms/{room}/calendar/events/{id}/reminders`: "remind me N minutes/hours/days before".
pub async fn add_reminder(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<ReminderForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    let form = form.into_inner();
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| reminders::add(conn, &actor, &s, EventId(id), &form),
                |_| Ok(()),
            )
        })
        .await?;
    let flash = match outcome {
        FormOutcome::Saved(()) => "flash.reminder_added",
        FormOutcome::Invalid { .. } => "flash.reminder_invalid",
    };
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/calendar/events/{id}"),
        flash,
    ))
}

/// `POST /rooms/{room}/calendar/events/{id}/reminders/{reminder}/delete`.
pub async fn delete_reminder(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, reminder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| reminders::remove(conn, &actor, &s, EventId(id), reminder))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/calendar/events/{id}"),
        "flash.reminder_removed",
    ))
}

/// The occurrence the skip form names.
#[derive(Debug, serde::Deserialize)]
pub struct SkipForm {
    occurrence: String,
}

/// `POST /rooms/{room}/calendar/events/{id}/skip`: deletes one occurrence of a series.
pub async fn skip_occurrence(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<SkipForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| {
            calendar::skip_occurrence(conn, &actor, &s, EventId(id), &form.occurrence)
        })
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/calendar/events/{id}"),
        "flash.occurrence_deleted",
    ))
}

/// `POST /rooms/{room}/calendar/feed`: a new secret feed address (the old one stops working),
/// shown once on the page this answers with.
pub async fn create_feed(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    let (token, ctx) = state
        .core
        .db
        .write(move |conn| {
            let token = calendar::new_feed(conn, &actor, &s)?;
            Ok((token, rooms::load(conn, Some(&actor), &s)?))
        })
        .await?;
    let page = FeedPage {
        layout: Layout::new(user.ctx(), &format!("/rooms/{slug}/calendar")),
        room: room_item(&ctx.room, ctx.access.role),
        url: format!("{}/ical/{token}.ics", state.core.config.base_url()),
    };
    Ok(render::keep_token_private(render::ok(&state, &page)?))
}

/// `POST /rooms/{room}/calendar/feed/revoke`.
pub async fn revoke_feed(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| calendar::revoke_feed(conn, &actor, &s))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/calendar"),
        "flash.feed_revoked",
    ))
}

/// `GET|HEAD /ical/{token}.ics`: the feed, with a strong `ETag` (304 when unchanged).
pub async fn ical_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let base = state.core.config.base_url();
    let (etag, body) = state
        .core
        .db
        .read(move |conn| calendar::feed(conn, &token, if_none_match.as_deref(), &base))
        .await?;
    let mut res = match body {
        None => HttpResponse::NotModified(),
        Some(_) => HttpResponse::Ok(),
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    Ok(match body {
        None => res.finish(),
        Some(b) => res.content_type("text/calendar; charset=utf-8").body(b.ics),
    })
}

/// `POST /rooms/{room}/calendar/import`: an `.ics` file (multipart, the CSRF token in the query),
/// imported all or nothing; the page says what was imported or every reason nothing was.
pub async fn import_events(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    use futures_util::StreamExt as _;
    let slug = room_slug(&slug)?.to_owned();
    // At most one byte more than the import takes, so a larger file is refused as too large.
    let mut bytes = Vec::new();
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|_| AppError::Invalid(crate::error::FieldErrors::default()))?;
        if field.name() != Some("file") {
            continue;
        }
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|_| AppError::Invalid(crate::error::FieldErrors::default()))?;
            let room = (calendar::import::MAX_BYTES + 1).saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
    // Not UTF-8: the parser sees nothing it can read, and says so.
    let text = String::from_utf8(bytes).unwrap_or_default();
    let (actor, site, s) = (user.actor(), user.ctx().site.clone(), slug.clone());
    let core = state.core.clone();
    let (ctx, outcome) = state
        .core
        .db
        .write(move |conn| calendar::import::import(&core, conn, &actor, &s, &text, &site))
        .await?;
    let layout = Layout::new(user.ctx(), &format!("/rooms/{slug}/calendar"));
    let page = ImportPage::new(layout, &ctx, &outcome);
    match outcome {
        calendar::import::Imported::Done { .. } => render::ok(&state, &page),
        calendar::import::Imported::Refused(_) => render::invalid(&state, &page),
    }
}

/// The approve / send-back form of a waiting event.
#[derive(Debug, serde::Deserialize)]
pub struct EventDecisionForm {
    #[serde(default)]
    note: String,
    /// Where to go afterwards: `inbox` or the event (default).
    #[serde(default)]
    back: String,
}

fn after_event_decision(slug: &str, id: i64, back: &str) -> String {
    if back == "inbox" {
        "/inbox".to_owned()
    } else {
        format!("/rooms/{slug}/calendar/events/{id}")
    }
}

/// `POST /rooms/{room}/calendar/events/{id}/approve`: readers see the waiting event from now on.
pub async fn approve_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<EventDecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core, s) = (user.actor(), state.core.clone(), slug.clone());
    state
        .core
        .db
        .write(move |conn| approval::approve(&core, conn, &actor, &s, EventId(id)))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &after_event_decision(&slug, id, &form.back),
        "flash.event_approved",
    ))
}

/// `POST /rooms/{room}/calendar/events/{id}/send-back`: back to its author with a note.
pub async fn send_back_event(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<EventDecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, core, s, note) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.note.clone(),
    );
    let flash = match state
        .core
        .db
        .write(move |conn| approval::send_back(&core, conn, &actor, &s, EventId(id), &note))
        .await
    {
        Ok(()) => "flash.event_sent_back",
        Err(AppError::Invalid(_)) => "flash.note_required",
        Err(e) => return Err(e),
    };
    Ok(redirect_with_flash(
        &state,
        &after_event_decision(&slug, id, &form.back),
        flash,
    ))
}
