-- Every stored membership of topics: wording key and topic (docs/topics.md).
SELECT question_key, topic_id FROM topic_questions
