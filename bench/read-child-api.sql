-- pgbench: the statement the API runs to read a child with its guardians and write the read's
-- access-log entry (src/db/children.rs `read_with_guardians`).
WITH effects AS (
    SELECT jsonb_build_array(jsonb_build_object(
               'actor_sub', 'leerkracht-sanne', 'actor_name', 'Sanne de Vries',
               'organisation_id', :org::text, 'roles', '["teacher"]'::jsonb, 'action', 'read',
               'resource_type', 'child', 'resource_id', :child::text, 'child_id', :child::text,
               'outcome', 'allowed', 'request_id', 'bench', 'client_address', '127.0.0.1',
               'trace_id', md5(random()::text))) AS access,
           '[]'::jsonb AS events, '[]'::jsonb AS timeline
), child AS (
    SELECT id, organisation_id, external_ref, given_name, family_name, date_of_birth, bsn,
           school_group, created_by_sub, created_at, updated_at
      FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid
), gate AS (SELECT FROM child),
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
SELECT child.*, g.* FROM child LEFT JOIN guardians g ON g.child_id = child.id ORDER BY g.id;
