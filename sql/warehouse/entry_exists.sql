-- Whether a manual entry with this natural key exists.
SELECT COUNT(*) FROM manual_entries WHERE natural_key = $1
