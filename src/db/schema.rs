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

diesel::table! {
    posts (id) {
        id -> BigInt,
        author_id -> BigInt,
        title -> Text,
        slug -> Text,
        body_md -> Text,
        body_html -> Text,
        excerpt -> Text,
        search_text -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        grams -> Text,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    post_tags (post_id, tag_id) {
        post_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(post_tags -> tags (tag_id));
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
    }
}

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

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    settings,
    password_resets,
    login_failures,
    audit_log,
    outbox,
    posts,
    tags,
    post_tags,
    rooms,
    room_members,
    room_permissions,
    room_join_requests,
    room_posts,
    post_revisions,
    room_invitations,
    post_comments,
    room_notification_prefs,
    digest_items,
);
