-- pgbench: a page of 50 of a child's signals with their revisions (as the teacher who recorded
-- them sees it) and an access-log entry for each signal shown, in one statement: the yardstick.
WITH page AS (
    SELECT s.* FROM signals s
     WHERE s.child_id = :child::uuid AND s.recorded_by_sub = 'leerkracht-sanne'
       -- The organisation checked on the child, as the API does: a filter on the signal's
       -- organisation lets a generic plan walk the organisation's index instead.
       AND EXISTS (SELECT FROM children c WHERE c.id = :child::uuid AND c.organisation_id = :org::uuid)
     ORDER BY s.recorded_at DESC, s.id DESC
     LIMIT 51
), logged AS (
    INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, resource_type,
                            resource_id, child_id, outcome, request_id, client_address, trace_id)
    SELECT 'leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'read', 'signal', id,
           child_id, 'allowed', 'bench', '127.0.0.1', md5(random()::text)
      FROM (SELECT * FROM page ORDER BY recorded_at DESC, id DESC LIMIT 50) shown
)
SELECT page.*, r.* FROM page JOIN signal_revisions r ON r.signal_id = page.id
 ORDER BY page.recorded_at DESC, page.id DESC, r.revision;
