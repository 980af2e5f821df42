-- `itstat topics merge $1 $2`: topic $1 keeps its row and says where it went.
UPDATE topics SET merged_into = $2 WHERE topic_id = $1
