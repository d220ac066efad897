-- PostgreSQL's twin of ../sqlite/0005_safety_plan.sql (README.md says how the DDL translates).
-- A member's own Stanley-Brown safety plan: one row per written section, the text encrypted.
CREATE TABLE safety_plan_sections (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    body BYTEA NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (member_id, section)
);
