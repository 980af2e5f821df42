-- `itstat topics merge $1 $2`: the questions of topic $1 move to topic $2.
UPDATE topic_questions SET topic_id = $2 WHERE topic_id = $1
