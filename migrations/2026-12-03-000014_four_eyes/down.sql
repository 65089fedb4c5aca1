DROP TABLE case_approvals;
DROP TABLE case_proposals;
