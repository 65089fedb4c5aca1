DROP TABLE organisation_services;
