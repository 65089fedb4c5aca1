-- pgbench: a page of 50 of a child's timeline (as a teacher sees it) and the read's access-log
-- entry, in one statement: the yardstick.
WITH child AS (
    SELECT id FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid
), logged AS (
    INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, resource_type,
                            resource_id, child_id, outcome, request_id, client_address, trace_id)
    SELECT 'leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'read', 'timeline', id,
           id, 'allowed', 'bench', '127.0.0.1', md5(random()::text)
      FROM child
)
SELECT t.id, t.occurred_at, t.entry_type, t.resource_type, t.resource_id, t.actor_sub,
       t.actor_name, t.summary
  FROM timeline_entries t
 WHERE t.child_id = :child::uuid AND EXISTS (SELECT FROM child)
   AND (t.visibility = 'organisation' OR t.actor_sub = 'leerkracht-sanne')
 ORDER BY t.occurred_at DESC, t.id DESC
 LIMIT 51;
