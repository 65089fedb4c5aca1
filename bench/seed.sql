-- Benchmark data for one school (psql variables: org, signals). Ten signals per child, two
-- guardians each, a timeline entry per signal, ten access-log entries per signal (so a million
-- signals come with ten million entries) and an event. The seeded access-log history is not
-- queued for sealing (the sealer would take many minutes over ten million rows before the load
-- could start); the entries the load writes are sealed as in production.
\set children (:signals / 10)
INSERT INTO children (id, organisation_id, external_ref, given_name, family_name, date_of_birth,
                      created_by_sub)
SELECT gen_random_uuid(), :'org', 'BENCH-' || g, 'Kind', 'Bench ' || g,
       date '2012-01-01' + (g % 2000), 'bench'
  FROM generate_series(1, :children) g;

INSERT INTO guardians (id, child_id, name, relationship, parental_authority, authority_source)
SELECT gen_random_uuid(), c.id, r.name, r.relationship, 'yes', 'gezagsregister'
  FROM children c
 CROSS JOIN (VALUES ('Ouder A', 'mother'), ('Ouder B', 'father')) AS r (name, relationship)
 WHERE c.organisation_id = :'org' AND c.created_by_sub = 'bench';

CREATE TEMP TABLE bench_signals AS
SELECT gen_random_uuid() AS id, c.id AS child_id,
       now() - (random() * interval '365 days') AS at
  FROM children c
 CROSS JOIN generate_series(1, 10)
 WHERE c.organisation_id = :'org' AND c.created_by_sub = 'bench';

INSERT INTO signals (id, organisation_id, child_id, recorded_by_sub, recorded_by_name,
                     recorded_by_role, recorded_at)
SELECT id, :'org', child_id, 'leerkracht-sanne', 'Sanne de Vries', 'teacher', at
  FROM bench_signals;

INSERT INTO signal_revisions (id, signal_id, revision, observed_at, category, source, facts,
                              direction, recorded_by_sub, recorded_by_name, recorded_at)
SELECT gen_random_uuid(), id, 1, at, 'behaviour_change', 'own_observation', 'Blauwe plek.',
       'raises_concern', 'leerkracht-sanne', 'Sanne de Vries', at
  FROM bench_signals;

INSERT INTO timeline_entries (id, organisation_id, child_id, occurred_at, entry_type,
                              resource_type, resource_id, actor_sub, actor_name, summary,
                              visibility)
SELECT gen_random_uuid(), :'org', child_id, at, 'signal.recorded', 'signal', id,
       'leerkracht-sanne', 'Sanne de Vries',
       'Signal recorded: Behaviour change (raises concern)', 'recorder'
  FROM bench_signals;

SET session_replication_role = replica; -- no triggers: history, not queued for sealing
INSERT INTO access_log (occurred_at, actor_sub, actor_name, organisation_id, roles, action,
                        resource_type, resource_id, child_id, outcome, request_id)
SELECT at, 'leerkracht-sanne', 'Sanne de Vries', :'org', '{teacher}',
       CASE WHEN n = 1 THEN 'create' ELSE 'read' END, 'signal', id, child_id, 'allowed',
       'bench-seed'
  FROM bench_signals CROSS JOIN generate_series(1, 10) AS n;
RESET session_replication_role;

INSERT INTO events (event_type, organisation_id, resource_type, resource_id, occurred_at)
SELECT 'signal.recorded', :'org', 'signal', id, at FROM bench_signals;

-- Measure a settled database: visibility maps set and statistics current, as after a quiet night.
VACUUM (ANALYZE);
