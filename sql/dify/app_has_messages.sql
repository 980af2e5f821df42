-- Whether any message belongs to an app id ($1) that the apps table no longer lists (an app
-- deleted before Dify 0.6.13 left its messages behind).
SELECT EXISTS (SELECT 1 FROM messages WHERE app_id = $1::uuid)
