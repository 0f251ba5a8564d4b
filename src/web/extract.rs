//! Extractors: the request context, the logged-in user, the administrator, validated paging.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::{FromRequest, HttpRequest, dev::Payload};

use super::context::ReqCtx;
use crate::error::AppError;
use crate::services::Actor;
use crate::services::auth::LiveSession;
use crate::services::auth::User;
use crate::services::authz::{Action, authorize};

/// The request context the middleware built.
#[derive(Clone)]
pub struct Ctx(pub Rc<ReqCtx>);

impl std::ops::Deref for Ctx {
    type Target = ReqCtx;
    fn deref(&self) -> &ReqCtx {
        &self.0
    }
}

fn ctx_of(req: &HttpRequest) -> Result<Rc<ReqCtx>, AppError> {
    ReqCtx::of(req).ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(ctx_of(req).map(Ctx))
    }
}

/// A logged-in user; anonymous visitors are sent to the login page.
#[derive(Clone)]
pub struct CurrentUser(pub Rc<ReqCtx>);

impl CurrentUser {
    /// The live session.
    pub fn session(&self) -> &LiveSession {
        // The extractor only builds a CurrentUser when the session exists.
        self.0
            .session
            .as_ref()
            .unwrap_or_else(|| unreachable!("checked in from_request"))
    }

    /// The account.
    pub fn user(&self) -> &User {
        &self.session().user
    }

    /// The actor for services.
    pub fn actor(&self) -> Actor {
        Actor::from(self.user())
    }

    /// The request context.
    pub fn ctx(&self) -> &ReqCtx {
        &self.0
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(ctx_of(req).and_then(|c| {
            if c.session.is_some() {
                Ok(CurrentUser(c))
            } else {
                Err(AppError::Unauthenticated)
            }
        }))
    }
}

/// A site administrator (others get 404, anonymous visitors the login page).
#[derive(Clone)]
pub struct Admin(pub CurrentUser);

impl std::ops::Deref for Admin {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = match CurrentUser::from_request(req, payload).into_inner() {
            Ok(u) => u,
            Err(e) => return ready(Err(e)),
        };
        ready(authorize(Some(&user.actor()), Action::Administer).map(|()| Admin(user)))
    }
}

/// `?page=N`, 1 to 100,000 (anything else is a 400, not a database query).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct PageQuery {
    /// The requested page.
    pub page: Option<i64>,
}

impl PageQuery {
    /// The validated page number.
    pub fn number(self) -> Result<i64, AppError> {
        match self.page {
            None => Ok(1),
            Some(p) if (1..=100_000).contains(&p) => Ok(p),
            Some(_) => Err(AppError::Invalid(crate::error::FieldErrors::default())),
        }
    }
}

/// A `{room}` path segment, checked before any query (anything that is not a room slug is 404).
pub fn room_slug(slug: &str) -> Result<&str, AppError> {
    if crate::services::rooms::valid_slug(slug) {
        Ok(slug)
    } else {
        Err(AppError::NotFound)
    }
}
