 ON CONFLICT (message_id, from_source) DO UPDATE SET
    rating = excluded.rating,
    content = excluded.content,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at
