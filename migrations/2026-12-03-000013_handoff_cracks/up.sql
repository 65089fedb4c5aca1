-- Handoffs that never get lost (issue 16, continued): a duty contact and the four-eyes setting
-- on the organisation, forwarding between Veilig Thuis regions, and Veilig Thuis's route
-- "voorwaarden en vervolg" with its follow-up checks.

-- The piketfunctie a sender can call when an acute handoff goes unacknowledged; and whether the
-- meldcode decision and a case closure need a second care coordinator (vier-ogenprincipe).
ALTER TABLE organisations
    ADD COLUMN duty_contact_name text CHECK (length(duty_contact_name) BETWEEN 1 AND 200),
    ADD COLUMN duty_contact_phone text CHECK (duty_contact_phone ~ '^\+?[0-9 ()-]{6,20}$'),
    ADD COLUMN duty_contact_hours text CHECK (length(duty_contact_hours) BETWEEN 1 AND 200),
    ADD COLUMN four_eyes boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT organisations_duty_contact_whole CHECK (
        (duty_contact_name IS NULL) = (duty_contact_phone IS NULL)
        AND (duty_contact_name IS NULL) = (duty_contact_hours IS NULL));

-- Forwarding: the original becomes `forwarded`; the forwarding links it to the new handoff
-- (one successor each, one predecessor each). Never changed.
ALTER TABLE handoffs DROP CONSTRAINT handoffs_status_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check
    CHECK (status IN ('sent', 'received', 'accepted', 'declined', 'closed', 'withdrawn', 'forwarded'));
CREATE TABLE handoff_forwardings (
    handoff_id uuid PRIMARY KEY REFERENCES handoffs (id),
    successor_id uuid NOT NULL UNIQUE REFERENCES handoffs (id),
    forwarded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (handoff_id <> successor_id)
);
CREATE TRIGGER handoff_forwardings_append_only BEFORE UPDATE OR DELETE ON handoff_forwardings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE handoff_transitions DROP CONSTRAINT handoff_transitions_transition_check;
ALTER TABLE handoff_transitions ADD CONSTRAINT handoff_transitions_transition_check
    CHECK (transition IN ('acknowledgement', 'acceptance', 'declination', 'closure', 'withdrawal',
                          'forwarding'));

-- Veilig Thuis's routes as the Handelingsprotocol (2019) names them, and the status feedback of
-- a conditions check. The next check is the `follow_up_check_on` of the latest feedback that
-- decides on it (domain::feedback::FeedbackCategory::sets_conditions_check).
ALTER TABLE feedback DROP CONSTRAINT feedback_category_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_category_check CHECK (category IN ('received',
    'safety_assessment_decided', 'involvement_ended', 'outcome', 'guidance_for_school',
    'help_in_place', 'contact_person', 'forwarded', 'conditions_met', 'conditions_not_met'));
ALTER TABLE feedback DROP CONSTRAINT feedback_outcome_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_outcome_check CHECK (outcome IN ('vt_investigates',
    'handed_to_local_team', 'handed_to_existing_help', 'handed_to_multidisciplinary_team',
    'handed_to_those_involved', 'conditions_and_follow_up', 'raad_voor_de_kinderbescherming',
    'no_further_action'));
ALTER TABLE feedback
    ADD COLUMN follow_up_check_on date,
    ADD COLUMN forwarded_to_organisation_id uuid REFERENCES organisations (id);
CREATE INDEX feedback_forwarded_to_organisation ON feedback (forwarded_to_organisation_id);
