ALTER TABLE handoffs DROP CONSTRAINT handoffs_kind_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_kind_check CHECK (kind IN ('advice_request', 'report',
    'information_request', 'information_response', 'referral', 'signal_to_school'));
