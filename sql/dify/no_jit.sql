-- Turns PostgreSQL's JIT compiler off for this read-only transaction only (PostgreSQL 11+;
-- on a server without JIT `current_setting` gives NULL and nothing is set). A full read's
-- cost passes the default `jit_above_cost`, and the server then spent 0.13 s compiling the
-- 300,000-message extract before sending its first row, for a query that ran no faster
-- compiled (1.05 s against 1.00 s; docs/performance.md, "The first load").
SELECT set_config('jit', 'off', true) WHERE current_setting('jit', true) IS NOT NULL
