-- Transfer to a new school (issue 16): the new school's transfer request and the previous
-- school's answer. What crossed (pupil number, case summary, the case's state) lives in the
-- snapshot like everything else that crossed.
ALTER TABLE handoffs DROP CONSTRAINT handoffs_kind_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_kind_check CHECK (kind IN ('advice_request', 'report',
    'information_request', 'information_response', 'referral', 'signal_to_school',
    'transfer_request', 'school_transfer'));
