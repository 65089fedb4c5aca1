-- Runs once, when the compose database is first created: the role `serve` connects as. It owns
-- nothing; `schakel migrate` (as the owner) grants it what it needs, and on the access log and
-- its seals only INSERT and SELECT. Development password: the compose database trusts every
-- connection anyway.
CREATE ROLE schakel_app LOGIN PASSWORD 'schakel_app';
