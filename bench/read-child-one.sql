-- pgbench: the same read and its access-log entry in one statement.
WITH child AS (
    SELECT * FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid
), logged AS (
    INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action,
                            resource_type, resource_id, child_id, outcome, request_id,
                            client_address, trace_id)
    SELECT 'leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'read', 'child', id,
           id, 'allowed', 'bench', '127.0.0.1', md5(random()::text)
      FROM child
)
SELECT c.*, (SELECT json_agg(g ORDER BY g.created_at, g.id) FROM guardians g
              WHERE g.child_id = c.id) AS guardians
  FROM child c;
