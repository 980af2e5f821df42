,
    session_id = excluded.session_id,
    session_start = excluded.session_start,
    session_date = excluded.session_date
