//! The only route table. It is written once, as data, so tests can walk it (every non-GET route must
//! refuse a forged CSRF token).

use actix_web::{Route, guard, web};

use super::handlers::{
    account, admin, assets, auth, calendar, dav, facilities, files, home, invitations, notices,
    people, public, reachability, room_posts, rooms, safety, subsonic,
};

macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Registers every route.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, $method().to($handler)); )*
        }

        /// `(method, path pattern)` of every route, in registration order.
        pub const TABLE: &[(&str, &str)] = &[ $( (stringify!($method), $path) ),* ];
    };
}

/// A GET route answers HEAD too, with the same status and headers and no body (actix-http drops
/// the body of a HEAD response and keeps its `Content-Length`): download managers, `curl -I`, link
/// checkers and WebDAV clients send HEAD, and a route table that registers GET alone answers 404.
fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

fn post() -> Route {
    web::post()
}

fn put() -> Route {
    web::put()
}

/// Every method (the WebDAV drive: PROPFIND, MKCOL, LOCK… besides GET and PUT).
fn any() -> Route {
    web::route()
}

route_table! {
    get "/" => public::index,
    get "/posts/{slug}" => public::show_post,
    get "/tags/{tag}" => public::tag,
    get "/authors/{login}" => public::author,
    get "/search" => public::search,
    get "/feed.atom" => public::feed_atom,
    get "/lang/{code}" => public::set_language,
    get "/healthz" => assets::healthz,
    get "/static/{hash}/{path:.*}" => assets::static_file,

    get "/login" => auth::login_form,
    post "/login" => auth::login,
    post "/logout" => auth::logout,
    get "/setup" => auth::setup_form,
    post "/setup" => auth::setup,
    get "/password/reset" => auth::reset_request_form,
    post "/password/reset" => auth::reset_request,
    get "/password/reset/{token}" => auth::reset_form,
    post "/password/reset/{token}" => auth::reset_confirm,

    get "/home" => home::show_home,
    get "/me" => account::show_profile,
    post "/me" => account::update_profile,
    post "/me/password" => account::change_password,
    post "/me/picture" => account::upload_picture,
    post "/me/picture/delete" => account::remove_picture,
    post "/me/sessions/end" => account::end_other_sessions,
    post "/me/app-passwords" => account::create_app_password,
    post "/me/app-passwords/{id}/revoke" => account::revoke_app_password,
    get "/me/room" => account::my_room,
    get "/me/addresses" => reachability::show_addresses,
    post "/me/addresses" => reachability::add_address,
    post "/me/addresses/{id}/test" => reachability::send_test,
    post "/me/addresses/{id}/delete" => reachability::remove_address,
    get "/email/confirm/{token}" => account::show_email_change,
    post "/email/confirm/{token}" => account::confirm_email_change,
    get "/verify/{token}" => reachability::show_verification,
    post "/verify/{token}" => reachability::confirm_verification,

    get "/admin" => admin::dashboard,
    post "/admin/backups/schedule" => admin::save_backup_schedule,
    get "/admin/members" => admin::list_members,
    get "/admin/members/new" => admin::new_member,
    post "/admin/members" => admin::create_member,
    get "/admin/members/import" => admin::import_form,
    post "/admin/members/import" => admin::import_members,
    post "/admin/members/{login}" => admin::change_member,
    get "/admin/settings" => admin::settings,
    post "/admin/settings" => admin::save_settings,
    get "/admin/audit" => admin::audit,
    get "/admin/reachability" => reachability::admin_overview,
    post "/admin/reachability/test" => reachability::test_everyone,
    get "/rooms" => rooms::list_rooms,
    get "/rooms/{room}" => rooms::show_room,
    post "/rooms/{room}/join" => rooms::join_room,
    post "/rooms/{room}/leave" => rooms::leave_room,
    get "/rooms/{room}/settings" => rooms::edit_room,
    post "/rooms/{room}/settings" => rooms::update_room,
    get "/rooms/{room}/members" => rooms::list_members,
    post "/rooms/{room}/members" => rooms::add_member,
    post "/rooms/{room}/members/{login}" => rooms::change_member,
    post "/rooms/{room}/requests/{login}" => rooms::decide_request,
    post "/rooms/{room}/invitations" => invitations::invite,
    get "/invite/{token}" => invitations::show_invitation,
    post "/invite/{token}" => invitations::accept_invitation,
    post "/invite/{token}/signup" => invitations::signup_invitation,
    get "/rooms/{room}/posts/new" => room_posts::new_post,
    post "/rooms/{room}/posts" => room_posts::create_post,
    get "/rooms/{room}/posts/{id}" => room_posts::show_post,
    get "/rooms/{room}/posts/{id}/edit" => room_posts::edit_post,
    post "/rooms/{room}/posts/{id}" => room_posts::update_post,
    post "/rooms/{room}/posts/{id}/approve" => room_posts::approve_post,
    post "/rooms/{room}/posts/{id}/send-back" => room_posts::send_back_post,
    post "/rooms/{room}/posts/{id}/delete" => room_posts::delete_post,
    post "/rooms/{room}/posts/{id}/comments" => room_posts::add_comment,
    post "/rooms/{room}/posts/{id}/comments/{comment}/approve" => room_posts::approve_comment,
    get "/rooms/{room}/posts/{id}/comments/{comment}" => room_posts::comment_page,
    post "/rooms/{room}/posts/{id}/comments/{comment}" => room_posts::update_comment,
    post "/rooms/{room}/posts/{id}/comments/{comment}/delete" => room_posts::delete_comment,
    get "/people" => people::directory,
    get "/people/{id}" => people::profile,
    get "/people/{id}/picture" => people::picture,
    get "/inbox" => room_posts::inbox,
    get "/new" => room_posts::whats_new,
    post "/rooms/{room}/notifications" => room_posts::set_notifications,
    get "/rooms/{room}/feed.atom" => room_posts::room_feed,
    get "/rooms/{room}/files" => files::show_cabinet,
    get "/rooms/{room}/files/trash" => files::show_trash,
    post "/rooms/{room}/files/trash/{kind}/{id}/restore" => files::restore_item,
    get "/rooms/{room}/files/folder/{folder}" => files::show_folder,
    get "/rooms/{room}/files/folder/{folder}/zip" => files::download_zip,
    post "/rooms/{room}/files/folder/{folder}/upload" => files::upload_files,
    post "/rooms/{room}/files/folder/{folder}/mkdir" => files::create_folder,
    post "/rooms/{room}/files/folder/{folder}/uploads" => files::create_upload,
    get "/rooms/{room}/files/uploads/{upload}" => files::upload_status,
    put "/rooms/{room}/files/uploads/{upload}" => files::put_chunk,
    post "/rooms/{room}/files/uploads/{upload}/finish" => files::finish_upload,
    post "/rooms/{room}/files/uploads/{upload}/cancel" => files::cancel_upload,
    get "/rooms/{room}/files/preview/{id}" => files::preview_file,
    get "/rooms/{room}/files/file/{id}/{name}" => files::download_file,
    post "/rooms/{room}/files/{kind}/{id}/{op}" => files::change_item,
    get "/rooms/{room}/calendar" => calendar::room_calendar,
    get "/rooms/{room}/calendar/week" => calendar::room_week,
    get "/rooms/{room}/calendar/events/new" => calendar::new_event,
    post "/rooms/{room}/calendar/events" => calendar::create_event,
    get "/rooms/{room}/calendar/events/{id}" => calendar::show_event,
    get "/rooms/{room}/calendar/events/{id}/edit" => calendar::edit_event,
    get "/rooms/{room}/calendar/events/{id}/event.ics" => calendar::event_ics,
    post "/rooms/{room}/calendar/events/{id}" => calendar::update_event,
    post "/rooms/{room}/calendar/events/{id}/delete" => calendar::delete_event,
    post "/rooms/{room}/calendar/events/{id}/skip" => calendar::skip_occurrence,
    post "/rooms/{room}/calendar/events/{id}/approve" => calendar::approve_event,
    post "/rooms/{room}/calendar/events/{id}/send-back" => calendar::send_back_event,
    post "/rooms/{room}/calendar/events/{id}/reminders" => calendar::add_reminder,
    post "/rooms/{room}/calendar/events/{id}/reminders/{reminder}/delete" => calendar::delete_reminder,
    post "/rooms/{room}/calendar/import" => calendar::import_events,
    post "/rooms/{room}/calendar/feed" => calendar::create_feed,
    post "/rooms/{room}/calendar/feed/revoke" => calendar::revoke_feed,
    get "/calendar" => calendar::my_calendar,
    get "/calendar/week" => calendar::my_week,
    get "/ical/{token}.ics" => calendar::ical_feed,
    get "/facilities" => facilities::list_facilities,
    get "/facilities/{id}" => facilities::show_facility,
    post "/facilities/{id}/bookings" => facilities::book_facility,
    post "/facilities/bookings/{id}/cancel" => facilities::cancel_booking,
    post "/facilities/bookings/{id}/approve" => facilities::approve_booking,
    post "/facilities/bookings/{id}/reject" => facilities::reject_booking,
    get "/admin/facilities" => facilities::admin_facilities,
    get "/admin/facilities/new" => facilities::new_facility,
    post "/admin/facilities" => facilities::create_facility,
    get "/admin/facilities/{id}/edit" => facilities::edit_facility,
    post "/admin/facilities/{id}" => facilities::update_facility,
    post "/admin/facilities/{id}/delete" => facilities::delete_facility,
    get "/rooms/{room}/permissions" => rooms::permissions,
    post "/rooms/{room}/permissions" => rooms::save_permissions,
    get "/admin/rooms" => rooms::admin_rooms,
    get "/admin/rooms/new" => rooms::new_room,
    post "/admin/rooms" => rooms::create_room,
    post "/admin/rooms/{room}/archive" => rooms::archive_room,

    get "/safety" => safety::list_checks,
    get "/safety/new" => safety::new_check,
    post "/safety" => safety::start_check,
    get "/safety/{id}" => safety::show_check,
    get "/safety/{id}/export.csv" => safety::export_csv,
    get "/safety/{id}/answer" => safety::answer_form,
    post "/safety/{id}/answer" => safety::answer,
    post "/safety/{id}/proxy/{login}" => safety::proxy_answer,
    post "/safety/{id}/remind" => safety::remind,
    post "/safety/{id}/close" => safety::close,
    get "/a/{token}" => safety::link_form,
    post "/a/{token}" => safety::link_answer,
    post "/rooms/{room}/officers/{login}" => safety::set_officer,
    get "/notices" => notices::list_notices,
    get "/rooms/{room}/notices/new" => notices::new_notice,
    post "/rooms/{room}/notices" => notices::send_notice,
    get "/notices/{id}" => notices::show_notice,
    post "/notices/{id}/answer" => notices::answer_notice,
    post "/notices/{id}/remind" => notices::remind_notice,
    post "/notices/{id}/close" => notices::close_notice,
    get "/notices/{id}/export.csv" => notices::export_notice,

    any "/dav" => dav::serve,
    any "/dav/{tail:.*}" => dav::serve,

    // The Subsonic API (`ping` and `ping.view` alike; POST is OpenSubsonic's form post).
    get "/rest/{method}" => subsonic::serve,
    post "/rest/{method}" => subsonic::serve,

    get "/admin/posts" => public::blog_moved,
    get "/admin/posts/new" => public::blog_write,
}
