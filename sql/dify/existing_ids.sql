-- Which of these message ids ($1, as text) Dify still holds: a feedback row may be dropped from
-- the warehouse only when its message still exists (else Dify purged the message, not the vote).
SELECT m.id::text AS id FROM messages m WHERE m.id = ANY ($1::text[]::uuid[])
