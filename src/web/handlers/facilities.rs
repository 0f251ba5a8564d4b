//! Facility reservations (施設予約): `/facilities` (every facility's bookings of a day), a
//! facility's week with its booking form, cancel / approve / reject, and the admin's facility pages.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;

use crate::error::AppError;
use crate::services::authz::is_site_admin;
use crate::services::calendar::facilities::{self, Booked, BookingForm, FacilityForm};
use crate::services::form::{self, FormOutcome};
use crate::web::AppState;
use crate::web::extract::{Admin, CurrentUser};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::facilities::{
    AdminFacilitiesPage, FacilitiesPage, FacilityFormPage, FacilityPage,
};
use crate::web::views::{Errors, Layout};

/// `?date=YYYY-MM-DD` (anything else is 404); none = today.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DateQuery {
    date: Option<String>,
}

impl DateQuery {
    fn day(&self, user: &CurrentUser) -> Result<NaiveDate, AppError> {
        match &self.date {
            None => Ok(crate::services::calendar::today(user.ctx().zone())),
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
                .ok_or(AppError::NotFound),
        }
    }
}

/// `GET /facilities[?date=...]`: every facility by category with that day's bookings.
pub async fn list_facilities(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<DateQuery>,
) -> Result<HttpResponse, AppError> {
    let day = query.day(&user)?;
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let a = actor.clone();
    let view = state
        .core
        .db
        .read(move |conn| facilities::day_view(conn, &a, day, &site))
        .await?;
    let page = FacilitiesPage::new(
        Layout::new(user.ctx(), "/facilities"),
        &view,
        is_site_admin(&actor),
    );
    render::ok(&state, &page)
}

/// `GET /facilities/{id}[?date=...]`: the facility's week (the week holding `date`) and its form.
pub async fn show_facility(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<DateQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, day) = (id.into_inner(), query.day(&user)?);
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let view = state
        .core
        .db
        .read(move |conn| facilities::facility_view(conn, &actor, id, day, &site))
        .await?;
    let form = BookingForm::on_day(day, &view.facility, view.zones);
    let layout = Layout::new(user.ctx(), &format!("/facilities/{id}"));
    render::ok(
        &state,
        &FacilityPage::new(layout, &view, &form, Errors::default(), None),
    )
}

/// `POST /facilities/{id}/bookings`: books it (409 with the booking that holds the slot, 422 with
/// the form's errors).
pub async fn book_facility(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<BookingForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let (actor, site, f) = (user.actor(), user.ctx().site.clone(), form.clone());
    let day = NaiveDate::parse_from_str(&form.start_date, "%Y-%m-%d").ok();
    let (booked, view) = state
        .core
        .db
        .write(move |conn| {
            let booked = facilities::book(conn, &actor, id, &f, &site)?;
            if let Booked::Done { .. } = booked {
                return Ok((booked, None));
            }
            let today = day.unwrap_or_else(|| crate::models::now().date());
            let view = facilities::facility_view(conn, &actor, id, today, &site)?;
            Ok((booked, Some(view)))
        })
        .await?;
    let layout = Layout::new(user.ctx(), &format!("/facilities/{id}"));
    match (booked, view) {
        (Booked::Done { pending, .. }, _) => Ok(redirect_with_flash(
            &state,
            &format!("/facilities/{id}?date={}", form.start_date),
            if pending {
                "flash.booking_pending"
            } else {
                "flash.booked"
            },
        )),
        (Booked::Invalid(errors), Some(view)) => render::invalid(
            &state,
            &FacilityPage::new(layout, &view, &form, errors.into(), None),
        ),
        (Booked::Taken(taken), Some(view)) => render::with_status(
            &state,
            &FacilityPage::new(layout, &view, &form, Errors::default(), Some(&taken)),
            StatusCode::CONFLICT,
        ),
        (_, None) => Err(AppError::NotFound),
    }
}

/// `POST /facilities/bookings/{id}/cancel`: cancels a booking (every date of it).
pub async fn cancel_booking(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let facility = state
        .core
        .db
        .write(move |conn| facilities::cancel(conn, &actor, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/facilities/{facility}"),
        "flash.booking_cancelled",
    ))
}

/// `POST /facilities/bookings/{id}/approve`: a manager approves a pending booking.
pub async fn approve_booking(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(state, user, id.into_inner(), true).await
}

/// `POST /facilities/bookings/{id}/reject`: a manager turns a pending booking down (it goes).
pub async fn reject_booking(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    decide(state, user, id.into_inner(), false).await
}

async fn decide(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: i64,
    approve: bool,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let facility = state
        .core
        .db
        .write(move |conn| facilities::decide(conn, &actor, id, approve))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/facilities/{facility}"),
        if approve {
            "flash.booking_approved"
        } else {
            "flash.booking_rejected"
        },
    ))
}

/// `GET /admin/facilities`.
pub async fn admin_facilities(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    let actor = admin.actor();
    let list = state
        .core
        .db
        .read(move |conn| facilities::admin_list(conn, &actor))
        .await?;
    let page = AdminFacilitiesPage::new(Layout::new(admin.ctx(), "/admin/facilities"), &list);
    render::ok(&state, &page)
}

fn form_page(
    admin: &Admin,
    id: Option<i64>,
    form: &FacilityForm,
    errors: Errors,
) -> FacilityFormPage {
    let layout = Layout::new(admin.ctx(), &FacilityFormPage::path(id));
    FacilityFormPage::new(layout, id, form, errors)
}

/// `GET /admin/facilities/new`.
pub async fn new_facility(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    render::ok(
        &state,
        &form_page(&admin, None, &FacilityForm::blank(), Errors::default()),
    )
}

/// `POST /admin/facilities`.
pub async fn create_facility(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<FacilityForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, f) = (admin.actor(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| facilities::create_facility(conn, &actor, &f),
                |_| Ok(()),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(_) => Ok(redirect_with_flash(
            &state,
            "/admin/facilities",
            "flash.facility_saved",
        )),
        FormOutcome::Invalid { errors, .. } => {
            render::invalid(&state, &form_page(&admin, None, &form, errors.into()))
        }
    }
}

/// `GET /admin/facilities/{id}/edit`.
pub async fn edit_facility(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), admin.actor());
    let form = state
        .core
        .db
        .read(move |conn| facilities::edit_form(conn, &actor, id))
        .await?;
    render::ok(
        &state,
        &form_page(&admin, Some(id), &form, Errors::default()),
    )
}

/// `POST /admin/facilities/{id}`.
pub async fn update_facility(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: web::Form<FacilityForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (actor, f) = (admin.actor(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| facilities::update_facility(conn, &actor, id, &f),
                |_| Ok(()),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(
            &state,
            "/admin/facilities",
            "flash.facility_saved",
        )),
        FormOutcome::Invalid { errors, .. } => {
            render::invalid(&state, &form_page(&admin, Some(id), &form, errors.into()))
        }
    }
}

/// `POST /admin/facilities/{id}/delete`: its bookings stay in their calendars as plain events.
pub async fn delete_facility(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), admin.actor());
    state
        .core
        .db
        .write(move |conn| facilities::delete_facility(conn, &actor, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/admin/facilities",
        "flash.facility_deleted",
    ))
}
