-- Every app, to resolve `[dify] apps` entries given by name.
SELECT id::text AS id, name::text AS name FROM apps ORDER BY name, id
