-- The natural keys of every stored manual entry (hand-entered rows: a small table).
SELECT natural_key FROM manual_entries
