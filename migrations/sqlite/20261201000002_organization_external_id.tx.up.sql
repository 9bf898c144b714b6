-- Keycloak's organization id, kept apart from authbff's own key: only this id
-- is sent to the backend (X-Organization-ID). NULL until a sign-in or refresh
-- learns it from the token or from Keycloak's admin API; rows made before
-- this migration cannot tell Keycloak's ids from invented ones, so none is
-- copied over.
ALTER TABLE organizations ADD COLUMN external_id text;
