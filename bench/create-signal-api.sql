-- pgbench: the statements the API runs to record a signal: the child the decision needs, then
-- one statement writing the signal, its revision and its effects (src/db/signals.rs `record`).
SELECT id, organisation_id, external_ref, given_name, family_name, date_of_birth, bsn,
       school_group, created_by_sub, created_at, updated_at
  FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid LIMIT 1;
WITH ids AS (SELECT gen_random_uuid() AS signal_id),
effects AS (
    SELECT jsonb_build_array(jsonb_build_object(
               'actor_sub', 'leerkracht-sanne', 'actor_name', 'Sanne de Vries',
               'organisation_id', :org::text, 'roles', '["teacher"]'::jsonb, 'action', 'create',
               'resource_type', 'signal', 'resource_id', (SELECT signal_id FROM ids), 'child_id', :child::text,
               'outcome', 'allowed', 'request_id', 'bench', 'client_address', '127.0.0.1',
               'trace_id', md5(random()::text))) AS access,
           jsonb_build_array(jsonb_build_object(
               'event_type', 'signal.recorded', 'organisation_id', :org::text,
               'resource_type', 'signal', 'resource_id', (SELECT signal_id FROM ids))) AS events,
           jsonb_build_array(jsonb_build_object(
               'id', gen_random_uuid(), 'organisation_id', :org::text, 'child_id', :child::text,
               'entry_type', 'signal.recorded', 'resource_type', 'signal',
               'resource_id', (SELECT signal_id FROM ids), 'actor_sub', 'leerkracht-sanne',
               'actor_name', 'Sanne de Vries',
               'summary', 'Signal recorded: Behaviour change (raises concern)',
               'visibility', 'recorder')) AS timeline
), child AS (
    SELECT id FROM children
     WHERE id = :child::uuid AND organisation_id = :org::uuid AND date_of_birth = :dob::date
), signal AS (
    INSERT INTO signals (id, organisation_id, child_id, recorded_by_sub, recorded_by_name,
                         recorded_by_role)
    SELECT (SELECT signal_id FROM ids), :org::uuid, child.id, 'leerkracht-sanne', 'Sanne de Vries',
           'teacher'
      FROM child
    RETURNING *
), revision AS (
    INSERT INTO signal_revisions (id, signal_id, revision, observed_at, category, source, facts,
                                  direction, recorded_by_sub, recorded_by_name)
    SELECT gen_random_uuid(), signal.id, 1, '2026-11-20T08:30:00Z', 'behaviour_change',
           'own_observation', 'Blauwe plek op de bovenarm.', 'raises_concern',
           signal.recorded_by_sub, signal.recorded_by_name
      FROM signal
    RETURNING *
), gate AS (SELECT FROM signal),
logged AS (
    INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, resource_type,
                            resource_id, child_id, outcome, request_id, client_address, trace_id)
    SELECT e.actor_sub, e.actor_name, e.organisation_id, e.roles, e.action, e.resource_type,
           e.resource_id, e.child_id, e.outcome, e.request_id, e.client_address, e.trace_id
      FROM effects, jsonb_to_recordset(effects.access) AS e(actor_sub text, actor_name text,
           organisation_id uuid, roles text[], action text, resource_type text,
           resource_id uuid, child_id uuid, outcome text, request_id text, client_address text,
           trace_id text)
     WHERE EXISTS (SELECT FROM gate)
), emitted AS (
    INSERT INTO events (event_type, organisation_id, resource_type, resource_id)
    SELECT e.event_type, e.organisation_id, e.resource_type, e.resource_id
      FROM effects, jsonb_to_recordset(effects.events) AS e(event_type text,
           organisation_id uuid, resource_type text, resource_id uuid)
     WHERE EXISTS (SELECT FROM gate)
), charted AS (
    INSERT INTO timeline_entries (id, organisation_id, child_id, entry_type, resource_type,
                                  resource_id, actor_sub, actor_name, summary, visibility)
    SELECT e.id, e.organisation_id, e.child_id, e.entry_type, e.resource_type, e.resource_id,
           e.actor_sub, e.actor_name, e.summary, e.visibility
      FROM effects, jsonb_to_recordset(effects.timeline) AS e(id uuid, organisation_id uuid,
           child_id uuid, entry_type text, resource_type text, resource_id uuid,
           actor_sub text, actor_name text, summary text, visibility text)
     WHERE EXISTS (SELECT FROM gate)
)
SELECT signal.*, revision.* FROM signal, revision;
