//! The WebDAV drive's actix glue (`/dav/…`, every method): Basic auth with an app password of
//! scope `dav` (never the login password, never a session cookie), the request path's shape, the
//! `Destination` header's host, then `dav_server` over `services::dav::DavFs`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use base64::Engine;
use dav_server::DavHandler;
use dav_server::actix::{DavRequest, DavResponse};
use dav_server::davpath::DavPath;
use dav_server::fakels::FakeLs;
use dav_server::fs::FsError;

use crate::db::types::AppPasswordScope;
use crate::services::app_passwords::{self, ClientCredentials, Refused};
use crate::services::dav::{DavFs, path_is_clean};
use crate::web::AppState;
use crate::web::extract::Ctx;

/// Where the drive is mounted.
pub const PREFIX: &str = "/dav";

fn challenge() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((
            header::WWW_AUTHENTICATE,
            "Basic realm=\"Yui\", charset=\"UTF-8\"",
        ))
        .finish()
}

/// Login and password from `Authorization: Basic …`.
fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_owned(), password.to_owned()))
}

/// A `Destination` (MOVE, COPY) must name this host and a clean path under the drive.
fn destination_ok(req: &HttpRequest) -> bool {
    let Some(dest) = req.headers().get("destination") else {
        return true;
    };
    let Some(uri) = dest
        .to_str()
        .ok()
        .and_then(|d| d.parse::<actix_web::http::Uri>().ok())
    else {
        return false;
    };
    if let Some(authority) = uri.authority() {
        let host = req.connection_info().host().to_owned();
        if !authority.as_str().eq_ignore_ascii_case(&host) {
            return false;
        }
    }
    let path = uri.path();
    path.starts_with("/dav/") && path_is_clean(path)
}

/// The source and destination of a MOVE or COPY, as the drive's paths (`None` if either does not
/// parse; `dav_server` answers that).
fn transfer_paths(req: &HttpRequest) -> Option<(DavPath, DavPath)> {
    let parse = |p: &str| {
        let mut path = DavPath::new(p).ok()?;
        path.set_prefix(PREFIX).ok()?;
        Some(path)
    };
    let dest = req.headers().get("destination")?.to_str().ok()?;
    let dest = dest.parse::<actix_web::http::Uri>().ok()?;
    Some((parse(req.uri().path())?, parse(dest.path())?))
}

/// The room a path is in (its first segment), for the quota properties.
fn room_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix(PREFIX)?.trim_start_matches('/');
    let first = rest.split('/').next().filter(|s| !s.is_empty())?;
    percent_encoding::percent_decode_str(first)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// A HEAD answer with the length `dav_server` wrote in its headers: actix writes the length of the
/// body it is given (none for HEAD), so the body becomes an empty stream of the declared size
/// (never polled for HEAD; actix-http sends no body).
fn keep_head_length(res: HttpResponse) -> HttpResponse {
    let len = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(len) = len else {
        return res;
    };
    let empty = futures_util::stream::empty::<Result<bytes::Bytes, actix_web::Error>>();
    res.set_body(actix_web::body::BoxBody::new(
        actix_web::body::SizedStream::new(len, empty),
    ))
}

/// Every method on `/dav` and below.
pub async fn serve(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    dav: DavRequest,
) -> HttpResponse {
    let raw_path = req.uri().path();
    if !path_is_clean(raw_path) {
        return HttpResponse::BadRequest().finish();
    }
    let Some((login, password)) = basic_auth(&req) else {
        return challenge();
    };
    let creds = ClientCredentials {
        login,
        password,
        ip_key: ctx.ip_key(),
        client: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
    };
    let user = match app_passwords::authenticate(&state.core, creds, AppPasswordScope::Dav).await {
        Ok(Ok(user)) => user,
        Ok(Err(Refused::Wrong)) => return challenge(),
        Ok(Err(Refused::Limited)) => return HttpResponse::TooManyRequests().finish(),
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    if !destination_ok(&req) {
        // Another server (RFC 4918 §9.8.5: 502) or a path outside the drive.
        return HttpResponse::BadGateway().finish();
    }
    let fs = DavFs::new(
        state.core.clone(),
        crate::services::Actor::from(&user),
        room_of(raw_path),
    );
    if let Some(copy) = match req.method().as_str() {
        "COPY" => Some(true),
        "MOVE" => Some(false),
        _ => None,
    } && let Some((from, to)) = transfer_paths(&req)
        && fs.transfer_fits(&from, &to, copy).await == Err(FsError::InsufficientStorage)
    {
        // Beyond the target room's quota: refused before anything is copied or overwritten.
        return HttpResponse::InsufficientStorage().finish();
    }
    let handler = DavHandler::builder()
        .filesystem(Box::new(fs))
        .locksystem(FakeLs::new())
        .strip_prefix(PREFIX)
        .build_handler();
    let mut res = DavResponse::from(handler.handle(dav.request).await).respond_to(&req);
    if req.method() == actix_web::http::Method::HEAD {
        res = keep_head_length(res);
    }
    // Ranges and lengths must reach the client as they are: no gzip on top.
    res.headers_mut().insert(
        header::CONTENT_ENCODING,
        header::HeaderValue::from_static("identity"),
    );
    res
}
