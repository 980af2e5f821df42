-- The current operator mark of each message and field (docs/warehouse.md, `marks`): the row
-- with the latest `marked_at`, ties broken by the highest `mark_id`. A legacy migration run
-- late appends marks with their historic times, which must not override newer ones. Every
-- query that needs a message's current marks reads this view; BI tools may too.
CREATE VIEW current_marks AS
SELECT k.mark_id, k.message_id, k.field, k.value, k.operator, k.note, k.marked_at, k.source
FROM marks k
WHERE NOT EXISTS (
    SELECT 1 FROM marks l
    WHERE l.message_id = k.message_id AND l.field = k.field
      AND (l.marked_at > k.marked_at OR (l.marked_at = k.marked_at AND l.mark_id > k.mark_id)));
