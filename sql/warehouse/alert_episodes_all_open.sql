-- Every open episode: those whose alert no longer fires are cleared.
SELECT episode_id, kind, subject FROM alert_episodes WHERE cleared_at IS NULL
