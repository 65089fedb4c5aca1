-- Figures benchmark data (psql variables: vt, handoffs). 200 schools of one region send
-- :handoffs handoffs, all in 2026-Q3 so one request counts every one of them: 60 % reports,
-- 40 % advice requests; 85 % acknowledged (a transition), half the reports assessed, one or
-- two feedback messages on most, and consent to give the school feedback asked on half the
-- reports from 2000 Veilig Thuis children, each with a guardian, granted, refused or open.
UPDATE organisations SET region = 'Utrecht' WHERE id = :'vt';
INSERT INTO organisations (id, kind, name, region, active)
SELECT gen_random_uuid(), 'school', 'Bench school ' || g, 'Utrecht', true
  FROM generate_series(1, 200) g;
CREATE TEMP TABLE bench_schools AS
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM organisations WHERE name LIKE 'Bench school %';

INSERT INTO children (id, organisation_id, external_ref, given_name, family_name, date_of_birth,
                      created_by_sub)
SELECT gen_random_uuid(), id, 'BENCH-' || n, 'Kind', 'Bench ' || n, date '2014-01-01' + n::int, 'bench'
  FROM bench_schools;
INSERT INTO children (id, organisation_id, external_ref, given_name, family_name, date_of_birth,
                      created_by_sub)
SELECT gen_random_uuid(), :'vt', 'VT-BENCH-' || g, 'Kind', 'Bench ' || g, date '2014-01-01' + g, 'bench'
  FROM generate_series(1, 2000) g;
INSERT INTO guardians (id, child_id, name, relationship, parental_authority, authority_source)
SELECT gen_random_uuid(), id, 'Ouder', 'mother', 'yes', 'gezagsregister'
  FROM children WHERE organisation_id = :'vt' AND created_by_sub = 'bench';
CREATE TEMP TABLE vt_children AS
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM children
 WHERE organisation_id = :'vt' AND created_by_sub = 'bench';

CREATE TEMP TABLE bench_handoffs AS
SELECT gen_random_uuid() AS id, g,
       CASE WHEN g % 5 < 3 THEN 'report' ELSE 'advice_request' END AS kind,
       timestamptz '2026-07-01 08:00+02' + (random() * interval '91 days') AS sent_at,
       s.id AS school, c.id AS child, g % 20 AS bucket
  FROM generate_series(1, :handoffs) g
  JOIN bench_schools s ON s.n = g % 200
  JOIN children c ON c.organisation_id = s.id;

INSERT INTO handoffs (id, kind, status, from_organisation_id, to_organisation_id, child_id,
                      legal_basis, snapshot, message, urgency, requests_guidance, sent_by_sub,
                      sent_by_name, sent_at, acknowledgement_due_at, assessment_due_at,
                      assessment_decided_at)
SELECT id, kind, CASE WHEN bucket < 17 THEN 'accepted' ELSE 'sent' END, school, :'vt', child,
       'meldrecht', '{}', 'Bench', 'regular', bucket % 2 = 0, 'bench', 'Bench', sent_at,
       sent_at + interval '1 day',
       CASE WHEN kind = 'report' AND bucket < 17 THEN sent_at + interval '7 days' END,
       CASE WHEN kind = 'report' AND bucket < 10 THEN sent_at + (random() * interval '9 days') END
  FROM bench_handoffs;

INSERT INTO handoff_transitions (id, handoff_id, transition, from_status, to_status, by_sub,
                                 by_name, by_organisation_id, at)
SELECT gen_random_uuid(), id, 'acknowledgement', 'sent', 'received', 'bench', 'Bench', :'vt',
       sent_at + (random() * interval '40 hours')
  FROM bench_handoffs WHERE bucket < 17;

INSERT INTO feedback (id, handoff_id, from_organisation_id, to_organisation_id, category, message,
                      audience, legal_basis, sent_by_sub, sent_by_name, sent_at)
SELECT gen_random_uuid(), id, :'vt', school, 'received', 'Ontvangen', 'care_coordinators',
       'statutory', 'bench', 'Bench', sent_at + (random() * interval '3 days')
  FROM bench_handoffs WHERE bucket < 15;

INSERT INTO consents (id, organisation_id, child_id, purpose, recipient_organisation_id, scope,
                      handoff_id, valid_until, created_by_sub, created_by_name)
SELECT gen_random_uuid(), :'vt', v.id, 'feedback_to_school', h.school,
       '{outcome,guidance_for_school}', h.id, date '2027-06-30', 'bench', 'Bench'
  FROM bench_handoffs h JOIN vt_children v ON v.n = h.g % 2000
 WHERE h.kind = 'report' AND h.bucket < 10;

INSERT INTO consent_decisions (id, consent_id, party, guardian_id, decision, method, decided_at,
                               recorded_by_sub, recorded_by_name)
SELECT gen_random_uuid(), c.id, g.id::text, g.id,
       CASE WHEN random() < 0.7 THEN 'granted' ELSE 'refused' END, 'verbal',
       c.created_at, 'bench', 'Bench'
  FROM consents c JOIN guardians g ON g.child_id = c.child_id
 WHERE c.created_by_sub = 'bench' AND random() < 0.8;

INSERT INTO feedback (id, handoff_id, from_organisation_id, to_organisation_id, category, message,
                      audience, consent_id, legal_basis, sent_by_sub, sent_by_name, sent_at)
SELECT gen_random_uuid(), h.id, :'vt', h.school, 'guidance_for_school', 'Advies',
       'care_coordinators', c.id, 'consent', 'bench', 'Bench', h.sent_at + interval '5 days'
  FROM bench_handoffs h JOIN consents c ON c.handoff_id = h.id
 WHERE h.bucket < 6;

ANALYZE;
