-- Every topic, merged ones too, by id.
SELECT topic_id, title, title_source, first_seen, created_at, merged_into FROM topics ORDER BY topic_id
