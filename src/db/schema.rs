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
        recipient_organisation_id -> Nullable<Uuid>,
        trace_id -> Nullable<Text>,
        filters -> Nullable<Text>,
    }
}

diesel::table! {
    access_log_seals (id) {
        id -> Int8,
        sealed_at -> Timestamptz,
        entry_ids -> Array<Nullable<Int8>>,
        prev_hash -> Text,
        seal_hash -> Text,
        key_id -> Nullable<Text>,
        signature -> Nullable<Text>,
    }
}

diesel::table! {
    access_log_unsealed (entry_id) {
        entry_id -> Int8,
    }
}

diesel::table! {
    case_actions (id) {
        id -> Uuid,
        case_id -> Uuid,
        description -> Text,
        owner_name -> Text,
        owner_sub -> Nullable<Text>,
        owner_organisation_id -> Nullable<Uuid>,
        due_date -> Date,
        done_at -> Nullable<Timestamptz>,
        decision_step_id -> Nullable<Uuid>,
        created_by_sub -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_approvals (proposal_id) {
        proposal_id -> Uuid,
        verdict -> Text,
        comment -> Nullable<Text>,
        by_sub -> Text,
        by_name -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    case_lead_changes (id) {
        id -> Uuid,
        case_id -> Uuid,
        from_sub -> Text,
        from_name -> Text,
        to_sub -> Text,
        to_name -> Text,
        reason -> Nullable<Text>,
        changed_by_sub -> Text,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    case_proposals (id) {
        id -> Uuid,
        case_id -> Uuid,
        subject -> Text,
        step_id -> Nullable<Uuid>,
        closure_note -> Nullable<Text>,
        proposed_by_sub -> Text,
        proposed_by_name -> Text,
        proposed_at -> Timestamptz,
    }
}

diesel::table! {
    case_review_parts (review_id, organisation_id) {
        review_id -> Uuid,
        organisation_id -> Uuid,
        side -> Text,
        chronology -> Jsonb,
        went_well -> Nullable<Text>,
        could_be_better -> Nullable<Text>,
        themes -> Array<Nullable<Text>>,
        written_by_sub -> Nullable<Text>,
        released_by_sub -> Nullable<Text>,
        released_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_reviews (id) {
        id -> Uuid,
        handoff_id -> Uuid,
        school_id -> Uuid,
        veilig_thuis_id -> Uuid,
        proposed_by_organisation_id -> Uuid,
        proposed_by_sub -> Text,
        proposed_at -> Timestamptz,
        status -> Text,
        answered_by_sub -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        withdrawn_by_organisation_id -> Nullable<Uuid>,
        withdrawn_at -> Nullable<Timestamptz>,
        released_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_steps (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        details -> Jsonb,
        supersedes -> Nullable<Uuid>,
        correction_reason -> Nullable<Text>,
        recorded_by_sub -> Text,
        recorded_by_name -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    cases (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        status -> Text,
        lead_sub -> Text,
        lead_name -> Text,
        opened_by_sub -> Text,
        opened_by_name -> Text,
        opened_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        closed_by_sub -> Nullable<Text>,
        closed_by_name -> Nullable<Text>,
        closure_note -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    children (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        external_ref -> Text,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Date,
        bsn -> Nullable<Text>,
        school_group -> Nullable<Text>,
        created_by_sub -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        source_handoff_id -> Nullable<Uuid>,
        left_on -> Nullable<Date>,
        care_ended_on -> Nullable<Date>,
        purged_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    consent_decisions (id) {
        id -> Uuid,
        consent_id -> Uuid,
        party -> Text,
        guardian_id -> Nullable<Uuid>,
        decision -> Text,
        method -> Text,
        decided_at -> Timestamptz,
        recorded_by_sub -> Text,
        recorded_by_name -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    consents (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        purpose -> Text,
        recipient_organisation_id -> Uuid,
        scope -> Array<Nullable<Text>>,
        handoff_id -> Nullable<Uuid>,
        valid_until -> Date,
        withdrawn_at -> Nullable<Timestamptz>,
        withdrawn_by_party -> Nullable<Text>,
        withdrawal_reason -> Nullable<Text>,
        withdrawal_recorded_by_sub -> Nullable<Text>,
        created_by_sub -> Text,
        created_by_name -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    destruction_requests (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        requester -> Text,
        requester_guardian_id -> Nullable<Uuid>,
        received_on -> Date,
        scope -> Text,
        records -> Jsonb,
        hearing -> Nullable<Text>,
        hearing_note -> Nullable<Text>,
        due_on -> Date,
        extended_at -> Nullable<Timestamptz>,
        extension_reason -> Nullable<Text>,
        status -> Text,
        granted_records -> Nullable<Jsonb>,
        weighing -> Nullable<Text>,
        refusal_ground -> Nullable<Text>,
        legal_duty -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        decided_by_sub -> Nullable<Text>,
        decided_by_name -> Nullable<Text>,
        executed_at -> Nullable<Timestamptz>,
        created_by_sub -> Text,
        created_by_name -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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
    feedback (id) {
        id -> Uuid,
        handoff_id -> Uuid,
        from_organisation_id -> Uuid,
        to_organisation_id -> Uuid,
        category -> Text,
        outcome -> Nullable<Text>,
        message -> Text,
        do_not_discuss_with_parents -> Bool,
        do_not_discuss_explanation -> Nullable<Text>,
        audience -> Text,
        consent_id -> Nullable<Uuid>,
        legal_basis -> Text,
        sent_by_sub -> Text,
        sent_by_name -> Text,
        sent_at -> Timestamptz,
        sender_purged_at -> Nullable<Timestamptz>,
        recipient_purged_at -> Nullable<Timestamptz>,
        follow_up_check_on -> Nullable<Date>,
        forwarded_to_organisation_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    feedback_reads (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        reader_sub -> Text,
        reader_name -> Text,
        reader_organisation_id -> Uuid,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    guardians (id) {
        id -> Uuid,
        child_id -> Uuid,
        name -> Text,
        relationship -> Text,
        parental_authority -> Text,
        authority_source -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    handoff_forwardings (handoff_id) {
        handoff_id -> Uuid,
        successor_id -> Uuid,
        forwarded_at -> Timestamptz,
    }
}

diesel::table! {
    handoff_reminders (id) {
        id -> Uuid,
        handoff_id -> Uuid,
        note -> Nullable<Text>,
        by_sub -> Text,
        by_name -> Text,
        by_organisation_id -> Uuid,
        at -> Timestamptz,
    }
}

diesel::table! {
    handoff_transitions (id) {
        id -> Uuid,
        handoff_id -> Uuid,
        transition -> Text,
        from_status -> Text,
        to_status -> Text,
        note -> Nullable<Text>,
        by_sub -> Text,
        by_name -> Text,
        by_organisation_id -> Uuid,
        at -> Timestamptz,
    }
}

diesel::table! {
    handoffs (id) {
        id -> Uuid,
        kind -> Text,
        status -> Text,
        from_organisation_id -> Uuid,
        to_organisation_id -> Uuid,
        child_id -> Nullable<Uuid>,
        case_id -> Nullable<Uuid>,
        in_response_to -> Nullable<Uuid>,
        consent_id -> Nullable<Uuid>,
        legal_basis -> Text,
        snapshot -> Jsonb,
        age_band -> Nullable<Text>,
        message -> Text,
        urgency -> Text,
        requests_guidance -> Bool,
        parents_informed_at -> Nullable<Timestamptz>,
        parents_not_informed_reason -> Nullable<Text>,
        parents_not_informed_explanation -> Nullable<Text>,
        melder_identity_disclosable -> Bool,
        melder_identity_reason -> Nullable<Text>,
        sent_by_sub -> Text,
        sent_by_name -> Text,
        sent_at -> Timestamptz,
        acknowledgement_due_at -> Timestamptz,
        assessment_due_at -> Nullable<Timestamptz>,
        assessment_decided_at -> Nullable<Timestamptz>,
        intake_child_id -> Nullable<Uuid>,
        updated_at -> Timestamptz,
        sender_purged_at -> Nullable<Timestamptz>,
        recipient_purged_at -> Nullable<Timestamptz>,
        acknowledgement_overdue_at -> Nullable<Timestamptz>,
        assessment_overdue_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        fingerprint -> Text,
        response_status -> Int4,
        response_headers -> Jsonb,
        response_body -> Bytea,
        created_at -> Timestamptz,
        accessed -> Jsonb,
    }
}

diesel::table! {
    kernteam_actions (id) {
        id -> Uuid,
        kernteam_id -> Uuid,
        item_id -> Uuid,
        owner_organisation_id -> Uuid,
        owner_name -> Text,
        description -> Text,
        due_on -> Date,
        done_at -> Nullable<Timestamptz>,
        done_by_sub -> Nullable<Text>,
        created_by_sub -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    kernteam_items (id) {
        id -> Uuid,
        meeting_id -> Uuid,
        presenting_organisation_id -> Uuid,
        child_id -> Nullable<Uuid>,
        age_band -> Nullable<Text>,
        school_group -> Nullable<Text>,
        concerns -> Array<Nullable<Text>>,
        question -> Text,
        advice -> Nullable<Text>,
        presented_by_sub -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    kernteam_meetings (id) {
        id -> Uuid,
        kernteam_id -> Uuid,
        held_on -> Date,
        kind -> Text,
        created_by_sub -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    kernteam_members (id) {
        id -> Uuid,
        kernteam_id -> Uuid,
        organisation_id -> Uuid,
        sub -> Text,
        name -> Text,
        team_role -> Text,
        meeting_id -> Nullable<Uuid>,
        added_by_sub -> Text,
        added_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    kernteam_perspectives (item_id, organisation_id) {
        item_id -> Uuid,
        organisation_id -> Uuid,
        notes -> Text,
        recorded_by_sub -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    kernteams (id) {
        id -> Uuid,
        school_id -> Uuid,
        name -> Text,
        created_by_sub -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    legal_holds (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        reason -> Text,
        until -> Nullable<Date>,
        placed_by_sub -> Text,
        placed_by_name -> Text,
        placed_at -> Timestamptz,
        lifted_at -> Nullable<Timestamptz>,
        lifted_by_sub -> Nullable<Text>,
        lifted_by_name -> Nullable<Text>,
    }
}

diesel::table! {
    organisation_services (organisation_id) {
        organisation_id -> Uuid,
        help_questions -> Array<Nullable<Text>>,
        municipalities -> Array<Nullable<Text>>,
        neighbourhoods -> Array<Nullable<Text>>,
        postcode_ranges -> Array<Nullable<Text>>,
        intake_route -> Text,
        opening_hours -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        updated_by_sub -> Text,
        updated_at -> Timestamptz,
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
        duty_contact_name -> Nullable<Text>,
        duty_contact_phone -> Nullable<Text>,
        duty_contact_hours -> Nullable<Text>,
        four_eyes -> Bool,
    }
}

diesel::table! {
    partner_links (id) {
        id -> Uuid,
        school_id -> Uuid,
        partner_id -> Uuid,
        role -> Text,
        contact_name -> Text,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        status -> Text,
        proposed_by_sub -> Text,
        confirmed_by_sub -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamptz>,
        ended_by_organisation_id -> Nullable<Uuid>,
        ended_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    signal_revisions (id) {
        id -> Uuid,
        signal_id -> Uuid,
        revision -> Int4,
        observed_at -> Timestamptz,
        category -> Text,
        source -> Text,
        source_description -> Nullable<Text>,
        facts -> Text,
        interpretation -> Nullable<Text>,
        direction -> Text,
        reason -> Nullable<Text>,
        recorded_by_sub -> Text,
        recorded_by_name -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    signals (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        recorded_by_sub -> Text,
        recorded_by_name -> Text,
        recorded_by_role -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    timeline_entries (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        child_id -> Uuid,
        occurred_at -> Timestamptz,
        entry_type -> Text,
        resource_type -> Text,
        resource_id -> Uuid,
        actor_sub -> Text,
        actor_name -> Text,
        summary -> Text,
        visibility -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        subscription_id -> Uuid,
        event_id -> Int8,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status_code -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        url -> Text,
        event_types -> Array<Nullable<Text>>,
        description -> Nullable<Text>,
        secret -> Text,
        disabled_at -> Nullable<Timestamptz>,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Int4,
        cursor_tx -> Int8,
        cursor_id -> Int8,
        created_by_sub -> Text,
        created_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(access_log_unsealed -> access_log (entry_id));
diesel::joinable!(case_actions -> case_steps (decision_step_id));
diesel::joinable!(case_actions -> cases (case_id));
diesel::joinable!(case_actions -> organisations (owner_organisation_id));
diesel::joinable!(case_approvals -> case_proposals (proposal_id));
diesel::joinable!(case_lead_changes -> cases (case_id));
diesel::joinable!(case_proposals -> case_steps (step_id));
diesel::joinable!(case_proposals -> cases (case_id));
diesel::joinable!(case_review_parts -> case_reviews (review_id));
diesel::joinable!(case_review_parts -> organisations (organisation_id));
diesel::joinable!(case_reviews -> handoffs (handoff_id));
diesel::joinable!(case_steps -> cases (case_id));
diesel::joinable!(cases -> children (child_id));
diesel::joinable!(cases -> organisations (organisation_id));
diesel::joinable!(children -> organisations (organisation_id));
diesel::joinable!(consent_decisions -> consents (consent_id));
diesel::joinable!(consent_decisions -> guardians (guardian_id));
diesel::joinable!(consents -> children (child_id));
diesel::joinable!(destruction_requests -> children (child_id));
diesel::joinable!(destruction_requests -> guardians (requester_guardian_id));
diesel::joinable!(destruction_requests -> organisations (organisation_id));
diesel::joinable!(events -> organisations (organisation_id));
diesel::joinable!(feedback -> consents (consent_id));
diesel::joinable!(feedback -> handoffs (handoff_id));
diesel::joinable!(feedback_reads -> feedback (feedback_id));
diesel::joinable!(feedback_reads -> organisations (reader_organisation_id));
diesel::joinable!(guardians -> children (child_id));
diesel::joinable!(handoff_reminders -> handoffs (handoff_id));
diesel::joinable!(handoff_reminders -> organisations (by_organisation_id));
diesel::joinable!(handoff_transitions -> handoffs (handoff_id));
diesel::joinable!(handoff_transitions -> organisations (by_organisation_id));
diesel::joinable!(handoffs -> cases (case_id));
diesel::joinable!(kernteam_actions -> kernteam_items (item_id));
diesel::joinable!(kernteam_actions -> kernteams (kernteam_id));
diesel::joinable!(kernteam_actions -> organisations (owner_organisation_id));
diesel::joinable!(kernteam_items -> children (child_id));
diesel::joinable!(kernteam_items -> kernteam_meetings (meeting_id));
diesel::joinable!(kernteam_items -> organisations (presenting_organisation_id));
diesel::joinable!(kernteam_meetings -> kernteams (kernteam_id));
diesel::joinable!(kernteam_members -> kernteam_meetings (meeting_id));
diesel::joinable!(kernteam_members -> kernteams (kernteam_id));
diesel::joinable!(kernteam_members -> organisations (organisation_id));
diesel::joinable!(kernteam_perspectives -> kernteam_items (item_id));
diesel::joinable!(kernteam_perspectives -> organisations (organisation_id));
diesel::joinable!(kernteams -> organisations (school_id));
diesel::joinable!(legal_holds -> children (child_id));
diesel::joinable!(legal_holds -> organisations (organisation_id));
diesel::joinable!(organisation_services -> organisations (organisation_id));
diesel::joinable!(signal_revisions -> signals (signal_id));
diesel::joinable!(signals -> children (child_id));
diesel::joinable!(signals -> organisations (organisation_id));
diesel::joinable!(timeline_entries -> children (child_id));
diesel::joinable!(timeline_entries -> organisations (organisation_id));
diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_subscriptions -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_log,
    access_log_seals,
    access_log_unsealed,
    case_actions,
    case_approvals,
    case_lead_changes,
    case_proposals,
    case_review_parts,
    case_reviews,
    case_steps,
    cases,
    children,
    consent_decisions,
    consents,
    destruction_requests,
    events,
    feedback,
    feedback_reads,
    guardians,
    handoff_forwardings,
    handoff_reminders,
    handoff_transitions,
    handoffs,
    idempotency_keys,
    kernteam_actions,
    kernteam_items,
    kernteam_meetings,
    kernteam_members,
    kernteam_perspectives,
    kernteams,
    legal_holds,
    organisation_services,
    organisations,
    partner_links,
    signal_revisions,
    signals,
    timeline_entries,
    webhook_deliveries,
    webhook_subscriptions,
);
