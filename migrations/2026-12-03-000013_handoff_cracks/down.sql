DROP INDEX feedback_forwarded_to_organisation;
ALTER TABLE feedback
    DROP COLUMN forwarded_to_organisation_id,
    DROP COLUMN follow_up_check_on;
ALTER TABLE feedback DROP CONSTRAINT feedback_outcome_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_outcome_check CHECK (outcome IN ('vt_investigates',
    'handed_to_local_team', 'handed_to_existing_help', 'raad_voor_de_kinderbescherming',
    'no_further_action'));
ALTER TABLE feedback DROP CONSTRAINT feedback_category_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_category_check CHECK (category IN ('received',
    'safety_assessment_decided', 'involvement_ended', 'outcome', 'guidance_for_school',
    'help_in_place', 'contact_person'));

ALTER TABLE handoff_transitions DROP CONSTRAINT handoff_transitions_transition_check;
ALTER TABLE handoff_transitions ADD CONSTRAINT handoff_transitions_transition_check
    CHECK (transition IN ('acknowledgement', 'acceptance', 'declination', 'closure', 'withdrawal'));

DROP TABLE handoff_forwardings;
ALTER TABLE handoffs DROP CONSTRAINT handoffs_status_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check
    CHECK (status IN ('sent', 'received', 'accepted', 'declined', 'closed', 'withdrawn'));

ALTER TABLE organisations
    DROP CONSTRAINT organisations_duty_contact_whole,
    DROP COLUMN four_eyes,
    DROP COLUMN duty_contact_hours,
    DROP COLUMN duty_contact_phone,
    DROP COLUMN duty_contact_name;
