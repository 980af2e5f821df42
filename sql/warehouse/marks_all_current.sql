-- Every current mark (the view current_marks), for a first load's snapshot of the marks.
SELECT k.message_id, k.field, k.value FROM current_marks k
