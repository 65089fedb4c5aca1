DROP TABLE kernteam_actions;
DROP TABLE kernteam_perspectives;
DROP TABLE kernteam_items;
DROP TABLE kernteam_members;
DROP TABLE kernteam_meetings;
DROP TABLE kernteams;
DROP TABLE partner_links;
