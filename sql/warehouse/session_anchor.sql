-- Moves each affected user's starting point back to the start of the session that holds the
-- message just before it: sessions before that point cannot change, everything after is
-- recomputed. A user with no earlier message keeps the starting point. The `created_at <=`
-- bound lets the index (user_key, created_at, message_id) find that message directly.
UPDATE affected_users SET
    from_at = COALESCE((
        SELECT m.session_start FROM messages m
        WHERE m.user_key = affected_users.user_key AND m.included AND m.session_id IS NOT NULL
          AND m.created_at <= affected_users.from_at
          AND (m.created_at < affected_users.from_at OR m.message_id < affected_users.from_id)
        ORDER BY m.created_at DESC, m.message_id DESC
        LIMIT 1), from_at),
    from_id = COALESCE((
        SELECT m.session_id FROM messages m
        WHERE m.user_key = affected_users.user_key AND m.included AND m.session_id IS NOT NULL
          AND m.created_at <= affected_users.from_at
          AND (m.created_at < affected_users.from_at OR m.message_id < affected_users.from_id)
        ORDER BY m.created_at DESC, m.message_id DESC
        LIMIT 1), from_id)
