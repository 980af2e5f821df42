-- The questions of a topic, by key (`itstat topics split`).
SELECT question_key, question FROM topic_questions WHERE topic_id = $1 ORDER BY question_key
