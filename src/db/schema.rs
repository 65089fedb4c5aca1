// @generated automatically by Diesel CLI.

diesel::table! {
    access_log (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_sub -> Text,
        actor_name -> Text,
        acting_client -> Nullable<Text>,
        organisation_id -> Uuid,
        roles -> Array<Nullable<Text>>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Uuid>,
        child_id -> Nullable<Uuid>,
        legal_basis -> Nullable<Text>,
        consent_id -> Nullable<Uuid>,
        outcome -> Text,
        request_id -> Text,
        client_address -> Nullable<Text>,
    }
}

diesel::table! {
    access_log_seals (id) {
        id -> Int8,
        sealed_at -> Timestamptz,
        entry_ids -> Array<Nullable<Int8>>,
        prev_hash -> Text,
        seal_hash -> Text,
    }
}

diesel::table! {
    access_log_unsealed (entry_id) {
        entry_id -> Int8,
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        tx_id -> Int8,
        event_type -> Text,
        organisation_id -> Uuid,
        resource_type -> Text,
        resource_id -> Uuid,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        brin -> Nullable<Text>,
        branch -> Nullable<Text>,
        region -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(access_log -> organisations (organisation_id));
diesel::joinable!(access_log_unsealed -> access_log (entry_id));
diesel::joinable!(events -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_log,
    access_log_seals,
    access_log_unsealed,
    events,
    organisations,
);
