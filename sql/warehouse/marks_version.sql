-- Where the marks stand: the id of the latest mark, 0 when there is none (marks are only
-- appended, so an unchanged id means unchanged marks; Tx::marks_version).
SELECT COALESCE(MAX(mark_id), 0) FROM marks
