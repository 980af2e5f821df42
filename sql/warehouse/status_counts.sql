-- Row counts for `itstat status`.
SELECT
    (SELECT COUNT(*) FROM messages) AS messages,
    (SELECT COUNT(*) FROM messages WHERE included) AS included,
    (SELECT COUNT(*) FROM messages WHERE state = 'pending') AS pending,
    (SELECT COUNT(*) FROM sessions) AS sessions,
    (SELECT COUNT(*) FROM feedbacks) AS feedbacks,
    (SELECT COUNT(*) FROM marks) AS marks,
    (SELECT COUNT(*) FROM manual_entries) AS manual_entries
