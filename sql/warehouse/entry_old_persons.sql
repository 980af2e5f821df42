-- The entry_person values of rows keyed by the old formula (16 hex digits; new keys have 32):
-- what an empty entry_person may have been filled with when they were imported.
SELECT DISTINCT entry_person FROM manual_entries
WHERE entry_person IS NOT NULL AND LENGTH(natural_key) = 16
