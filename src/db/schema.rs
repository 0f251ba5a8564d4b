//! The one hand-maintained schema shared by SQLite and PostgreSQL (portable types only).

diesel::table! {
    users (id) {
        id -> BigInt,
        login -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        site_role -> Text,
        language -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        timezone -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> Nullable<BigInt>,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        ip_key -> Text,
        account_key -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        detail -> Text,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        to_addr -> Text,
        subject -> Text,
        body_text -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(audit_log -> users (actor_id));

diesel::table! {
    rooms (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        slug -> Text,
        name -> Text,
        description -> Text,
        visibility -> Text,
        state -> Text,
        default_role -> Text,
        join_policy -> Text,
        need_approval -> Bool,
        quota_bytes -> BigInt,
        features -> Text,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        comment_approval -> Bool,
        /// `public` (the one public space), `community` or `private`.
        space -> Text,
        /// The owner of a private room (`space = 'private'`); `NULL` for every other room.
        owner_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    room_permissions (room_id, permission, role) {
        room_id -> BigInt,
        permission -> Text,
        role -> Text,
        allowed -> Bool,
    }
}

diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(room_permissions -> rooms (room_id));

diesel::table! {
    room_join_requests (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
        message -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(room_join_requests -> rooms (room_id));
diesel::joinable!(room_join_requests -> users (user_id));

diesel::table! {
    room_posts (id) {
        id -> BigInt,
        room_id -> BigInt,
        author_id -> BigInt,
        live_revision_id -> Nullable<BigInt>,
        published_at -> Nullable<Timestamp>,
        publish_until -> Nullable<Timestamp>,
        ever_published -> Bool,
        deleted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notified_at -> Nullable<Timestamp>,
        /// The public space's post address (`/posts/{slug}`); unused elsewhere.
        slug -> Nullable<Text>,
    }
}

diesel::table! {
    post_revisions (id) {
        id -> BigInt,
        post_id -> BigInt,
        editor_id -> BigInt,
        title -> Text,
        body_md -> Text,
        body_html -> Text,
        excerpt -> Text,
        search_text -> Text,
        status -> Text,
        note -> Text,
        publish_at -> Nullable<Timestamp>,
        publish_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        grams -> Text,
        /// Comma-separated tags of this revision (the public space).
        tags -> Text,
        /// The language the title and body are written in (`ja`, `en`).
        lang -> Text,
    }
}

diesel::table! {
    room_post_tags (post_id, tag) {
        post_id -> BigInt,
        tag -> Text,
        /// The post's room and publishing window, for the tag pages' index.
        room_id -> BigInt,
        published_at -> Timestamp,
        publish_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(room_post_tags -> room_posts (post_id));
diesel::joinable!(room_posts -> rooms (room_id));
diesel::joinable!(room_posts -> users (author_id));
diesel::joinable!(post_revisions -> room_posts (post_id));

diesel::table! {
    room_invitations (id) {
        id -> BigInt,
        room_id -> BigInt,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<BigInt>,
    }
}

diesel::joinable!(room_invitations -> rooms (room_id));

diesel::table! {
    post_comments (id) {
        id -> BigInt,
        post_id -> BigInt,
        author_id -> BigInt,
        body_md -> Text,
        body_html -> Text,
        status -> Text,
        created_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        edited_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(post_comments -> room_posts (post_id));

diesel::table! {
    room_notification_prefs (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
        mode -> Text,
    }
}

diesel::table! {
    digest_items (id) {
        id -> BigInt,
        user_id -> BigInt,
        room_id -> BigInt,
        post_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blobs (sha256) {
        sha256 -> Text,
        size -> BigInt,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    user_pictures (user_id) {
        user_id -> BigInt,
        blob_sha256 -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(user_pictures -> users (user_id));
diesel::joinable!(user_pictures -> blobs (blob_sha256));

diesel::table! {
    folders (id) {
        id -> BigInt,
        room_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        name_key -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    files (id) {
        id -> BigInt,
        room_id -> BigInt,
        folder_id -> BigInt,
        name -> Text,
        name_key -> Text,
        blob_sha256 -> Text,
        size -> BigInt,
        content_type -> Text,
        title -> Nullable<Text>,
        artist -> Nullable<Text>,
        album -> Nullable<Text>,
        track -> Nullable<BigInt>,
        uploaded_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        room_id -> BigInt,
        folder_id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        size -> BigInt,
        received -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        token -> Text,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        kind -> Text,
        room_id -> Nullable<BigInt>,
        sender_id -> BigInt,
        title -> Text,
        body_md -> Text,
        body_html -> Text,
        drill -> Bool,
        questions -> Text,
        deadline -> Nullable<Timestamp>,
        remind_every_minutes -> BigInt,
        remind_max -> BigInt,
        reminders_sent -> BigInt,
        next_remind_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contact_addresses (id) {
        id -> BigInt,
        user_id -> BigInt,
        address -> Text,
        address_key -> Text,
        extra -> Bool,
        created_at -> Timestamp,
        verified_at -> Nullable<Timestamp>,
        bouncing_at -> Nullable<Timestamp>,
        bounce_error -> Nullable<Text>,
    }
}

diesel::table! {
    notice_recipients (notice_id, user_id) {
        notice_id -> BigInt,
        user_id -> BigInt,
        token_hash -> Nullable<Text>,
        read_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        answer -> Nullable<Text>,
        condition -> Nullable<Text>,
        proxy_by -> Nullable<BigInt>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    safety_officers (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::joinable!(notice_recipients -> notices (notice_id));

diesel::table! {
    contact_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        contact_id -> Nullable<BigInt>,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_changes (id) {
        id -> BigInt,
        user_id -> BigInt,
        new_email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(contact_addresses -> users (user_id));
diesel::joinable!(email_changes -> users (user_id));
diesel::joinable!(contact_tokens -> contact_addresses (contact_id));

// A calendar event or series (issue #12): the rule is kept and expanded on read.
diesel::table! {
    events (id) {
        id -> BigInt,
        room_id -> BigInt,
        /// Stable iCalendar UID.
        uid -> Text,
        title -> Text,
        description_md -> Text,
        description_html -> Text,
        place -> Text,
        /// UTC; for all-day events the first day at 00:00.
        starts_at -> Timestamp,
        /// UTC; for all-day events the day after the last at 00:00.
        ends_at -> Timestamp,
        /// The zone the rule repeats in.
        tz -> Text,
        all_day -> Bool,
        /// An RRULE value (`FREQ=WEEKLY;BYDAY=MO`), empty for a single event.
        rrule -> Text,
        /// Skipped occurrences, comma-separated iCalendar dates.
        exdates -> Text,
        /// When the last occurrence ends (NULL: the series never ends).
        series_ends_at -> Nullable<Timestamp>,
        sequence -> Integer,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// A facility reservation's facility (NULL: an ordinary event).
        facility_id -> Nullable<BigInt>,
        /// `confirmed` or `pending` for a reservation, empty otherwise.
        booking_state -> Text,
        /// `published`, `pending` (承認待ち) or `sent_back` (差し戻し).
        approval -> Text,
        /// The approver's note when sent back.
        approval_note -> Text,
        /// Readers were shown it in a room with approval (deleting it then needs publish rights).
        ever_published -> Bool,
    }
}

// Secret iCalendar feed addresses, per member and room (token stored hashed).
diesel::table! {
    calendar_feeds (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        room_id -> BigInt,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

// One changed occurrence of a series (its RECURRENCE-ID and new fields and times).
diesel::table! {
    event_overrides (id) {
        id -> BigInt,
        event_id -> BigInt,
        /// The original start of the occurrence it replaces (UTC; all-day: the date at 00:00).
        recurrence_id -> Timestamp,
        title -> Text,
        description_md -> Text,
        description_html -> Text,
        place -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

// A member's reminder by mail, minutes before each occurrence of an event.
diesel::table! {
    event_reminders (id) {
        id -> BigInt,
        event_id -> BigInt,
        user_id -> BigInt,
        minutes_before -> Integer,
        created_at -> Timestamp,
    }
}

// One reminder of one occurrence, queued (its claim: unique on both).
diesel::table! {
    event_reminder_sends (id) {
        id -> BigInt,
        reminder_id -> BigInt,
        /// The occurrence's original start (as `event_overrides.recurrence_id`).
        occurrence_start -> Timestamp,
        sent_at -> Timestamp,
    }
}

diesel::joinable!(events -> rooms (room_id));

// Facilities a room may book (施設予約); times are minutes after midnight in the site's zone.
diesel::table! {
    facilities (id) {
        id -> BigInt,
        name -> Text,
        category -> Text,
        description -> Text,
        opens_at -> Integer,
        closes_at -> Integer,
        /// Bookable weekdays as bits, Monday = 1 … Sunday = 64.
        weekdays -> Integer,
        all_rooms -> Bool,
        needs_approval -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    facility_rooms (id) {
        id -> BigInt,
        facility_id -> BigInt,
        room_id -> BigInt,
    }
}

diesel::table! {
    facility_managers (id) {
        id -> BigInt,
        facility_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::joinable!(events -> facilities (facility_id));
diesel::joinable!(facility_rooms -> facilities (facility_id));
diesel::joinable!(facility_rooms -> rooms (room_id));
diesel::joinable!(facility_managers -> facilities (facility_id));
diesel::joinable!(facility_managers -> users (user_id));
diesel::joinable!(event_reminders -> events (event_id));
diesel::joinable!(event_reminder_sends -> event_reminders (reminder_id));
diesel::joinable!(event_overrides -> events (event_id));
diesel::joinable!(calendar_feeds -> rooms (room_id));

diesel::table! {
    app_passwords (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        scope -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        last_client -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        secret_sealed -> Nullable<Text>,
    }
}

diesel::joinable!(app_passwords -> users (user_id));

// What an import brought in, by its source's own id (`yui import wordpress`): runs are idempotent.
diesel::table! {
    import_sources (source, guid) {
        /// The source site (`wordpress:{base url}`).
        source -> Text,
        /// The item's id there with its kind (`post:12`, `comment:34`, `author:admin`).
        guid -> Text,
        /// The row it became.
        target_id -> BigInt,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    audio_meta (blob_sha256) {
        blob_sha256 -> Text,
        title -> Nullable<Text>,
        artist -> Nullable<Text>,
        album -> Nullable<Text>,
        album_artist -> Nullable<Text>,
        genre -> Nullable<Text>,
        year -> Nullable<BigInt>,
        track -> Nullable<BigInt>,
        disc -> Nullable<BigInt>,
        duration_ms -> BigInt,
        bitrate_kbps -> Nullable<BigInt>,
        has_picture -> Bool,
        read_ok -> Bool,
        read_at -> Timestamp,
    }
}

diesel::table! {
    subsonic_stars (user_id, item) {
        user_id -> BigInt,
        item -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    playlists (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        comment -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    playlist_entries (playlist_id, position) {
        playlist_id -> BigInt,
        position -> BigInt,
        file_id -> BigInt,
    }
}

diesel::joinable!(subsonic_stars -> users (user_id));
diesel::joinable!(playlists -> users (user_id));
diesel::joinable!(playlist_entries -> playlists (playlist_id));
diesel::joinable!(playlist_entries -> files (file_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    settings,
    password_resets,
    login_failures,
    audit_log,
    outbox,
    rooms,
    room_members,
    room_permissions,
    room_join_requests,
    room_posts,
    post_revisions,
    room_post_tags,
    room_invitations,
    post_comments,
    room_notification_prefs,
    digest_items,
    blobs,
    user_pictures,
    folders,
    files,
    uploads,
    notices,
    notice_recipients,
    safety_officers,
    contact_addresses,
    contact_tokens,
    email_changes,
    events,
    calendar_feeds,
    app_passwords,
    audio_meta,
    subsonic_stars,
    playlists,
    playlist_entries,
    event_overrides,
    event_reminders,
    event_reminder_sends,
    import_sources,
    facilities,
    facility_rooms,
    facility_managers,
);
