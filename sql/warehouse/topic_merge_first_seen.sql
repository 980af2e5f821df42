-- `itstat topics merge $1 $2`: topic $2's first message is the earlier of the two.
UPDATE topics SET first_seen = (SELECT first_seen FROM topics WHERE topic_id = $1)
WHERE topic_id = $2 AND first_seen > (SELECT first_seen FROM topics WHERE topic_id = $1)
