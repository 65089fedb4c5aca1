DROP TABLE timeline_entries;
DROP TABLE signal_revisions;
DROP TABLE signals;
DROP TABLE guardians;
DROP TABLE children;
