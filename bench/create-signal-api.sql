-- pgbench: the statements the API runs today to record a signal, one round trip each.
BEGIN;
SELECT id, organisation_id, external_ref, given_name, family_name, date_of_birth, bsn,
       school_group, created_by_sub, created_at, updated_at
  FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid LIMIT 1;
INSERT INTO signals (id, organisation_id, child_id, recorded_by_sub, recorded_by_name, recorded_by_role)
VALUES (gen_random_uuid(), :org::uuid, :child::uuid, 'leerkracht-sanne', 'Sanne de Vries', 'teacher')
RETURNING id AS signal \gset
INSERT INTO signal_revisions (id, signal_id, revision, observed_at, category, source, facts,
                              direction, recorded_by_sub, recorded_by_name)
VALUES (gen_random_uuid(), :signal::uuid, 1, '2026-11-20T08:30:00Z', 'behaviour_change',
        'own_observation', 'Blauwe plek op de bovenarm.', 'raises_concern', 'leerkracht-sanne',
        'Sanne de Vries');
INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, resource_type,
                        resource_id, child_id, outcome, request_id, client_address, trace_id)
VALUES ('leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'create', 'signal',
        :signal::uuid, :child::uuid, 'allowed', 'bench', '127.0.0.1', md5(random()::text));
INSERT INTO events (event_type, organisation_id, resource_type, resource_id)
VALUES ('signal.recorded', :org::uuid, 'signal', :signal::uuid);
INSERT INTO timeline_entries (id, organisation_id, child_id, entry_type, resource_type,
                              resource_id, actor_sub, actor_name, summary, visibility)
VALUES (gen_random_uuid(), :org::uuid, :child::uuid, 'signal.recorded', 'signal', :signal::uuid,
        'leerkracht-sanne', 'Sanne de Vries',
        'Signal recorded: Behaviour change (raises concern)', 'recorder');
COMMIT;
