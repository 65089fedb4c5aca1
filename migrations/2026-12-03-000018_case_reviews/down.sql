DROP TABLE case_review_parts;
DROP TABLE case_reviews;
