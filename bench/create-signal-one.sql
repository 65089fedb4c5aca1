-- pgbench: the same effect in one statement (and so one round trip and one transaction): the
-- yardstick the API is measured against.
WITH child AS (
    SELECT id FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid
), signal AS (
    INSERT INTO signals (id, organisation_id, child_id, recorded_by_sub, recorded_by_name,
                         recorded_by_role)
    SELECT gen_random_uuid(), :org::uuid, id, 'leerkracht-sanne', 'Sanne de Vries', 'teacher'
      FROM child
    RETURNING id, child_id
), revision AS (
    INSERT INTO signal_revisions (id, signal_id, revision, observed_at, category, source, facts,
                                  direction, recorded_by_sub, recorded_by_name)
    SELECT gen_random_uuid(), id, 1, '2026-11-20T08:30:00Z', 'behaviour_change',
           'own_observation', 'Blauwe plek op de bovenarm.', 'raises_concern',
           'leerkracht-sanne', 'Sanne de Vries'
      FROM signal
), logged AS (
    INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action,
                            resource_type, resource_id, child_id, outcome, request_id,
                            client_address, trace_id)
    SELECT 'leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'create', 'signal',
           id, child_id, 'allowed', 'bench', '127.0.0.1', md5(random()::text)
      FROM signal
), event AS (
    INSERT INTO events (event_type, organisation_id, resource_type, resource_id)
    SELECT 'signal.recorded', :org::uuid, 'signal', id FROM signal
), timeline AS (
    INSERT INTO timeline_entries (id, organisation_id, child_id, entry_type, resource_type,
                                  resource_id, actor_sub, actor_name, summary, visibility)
    SELECT gen_random_uuid(), :org::uuid, child_id, 'signal.recorded', 'signal', id,
           'leerkracht-sanne', 'Sanne de Vries',
           'Signal recorded: Behaviour change (raises concern)', 'recorder'
      FROM signal
)
SELECT id FROM signal;
