-- pgbench: the statements the API runs today to read a child with its guardians.
BEGIN;
SELECT id, organisation_id, external_ref, given_name, family_name, date_of_birth, bsn,
       school_group, created_by_sub, created_at, updated_at
  FROM children WHERE id = :child::uuid AND organisation_id = :org::uuid LIMIT 1;
SELECT id, child_id, name, relationship, parental_authority, authority_source, phone, email,
       created_at, updated_at
  FROM guardians WHERE child_id = ANY (ARRAY[:child::uuid]) ORDER BY created_at, id;
INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, resource_type,
                        resource_id, child_id, outcome, request_id, client_address, trace_id)
VALUES ('leerkracht-sanne', 'Sanne de Vries', :org::uuid, '{teacher}', 'read', 'child',
        :child::uuid, :child::uuid, 'allowed', 'bench', '127.0.0.1', md5(random()::text));
COMMIT;
