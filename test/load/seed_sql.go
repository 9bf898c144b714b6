package main

import "fmt"

// statement is one SQL statement with its arguments.
type statement struct {
	sql  string
	args []any
}

// fixtureStatements create the load user, the organization its sessions are
// active in, a second one, memberships in both and three roles, so GET
// /session resolves roles, organizations and the active organization, and
// the user's roles/organizations snapshot as a sign-in writes it. They run
// in order, in one transaction, and are idempotent.
func fixtureStatements(user, org, other string) []statement {
	return []statement{
		{`INSERT INTO users (id, name, email, email_verified, image)
		VALUES ($1, 'Load Test', 'load@example.test', now(), '') ON CONFLICT DO NOTHING`, []any{user}},
		{`INSERT INTO organizations (id, alias, name, tenant_id)
		VALUES ($1, 'load-acme', 'Acme Load', 't-acme'), ($2, 'load-globex', 'Globex Load', '')
		ON CONFLICT DO NOTHING`, []any{org, other}},
		{`INSERT INTO user_organizations (user_id, organization_id) VALUES ($1, $2), ($1, $3)
		ON CONFLICT DO NOTHING`, []any{user, org, other}},
		{`INSERT INTO roles (name, source) VALUES ('user', 'realm'), ('admin', 'realm'), ('viewer', 'client:web_app')
		ON CONFLICT DO NOTHING`, nil},
		{`INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles
		WHERE (name, source) IN (('user', 'realm'), ('admin', 'realm'), ('viewer', 'client:web_app'))
		ON CONFLICT DO NOTHING`, []any{user}},
		// The snapshot a sign-in writes (see adapters/store/session_view.go).
		{`UPDATE users SET
		roles_view = (SELECT coalesce(json_agg(json_build_array(r.name, r.source) ORDER BY r.source, r.name)::text, '[]')
			FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = users.id),
		orgs_view = (SELECT coalesce(json_agg(json_build_array(o.id, o.alias, o.name, o.tenant_id,
			coalesce(o.external_id, '')) ORDER BY o.alias)::text, '[]')
			FROM user_organizations uo JOIN organizations o ON o.id = uo.organization_id WHERE uo.user_id = users.id)
		WHERE id = $1`, []any{user}},
	}
}

// seedSessionsSQL inserts sessions $2..$3 with tokens derived from prefix $1
// (see deriveToken) for user $4 with active organization $5. $6 is a random
// blob cut into the sealed access ($8 bytes), refresh ($9) and ID ($10)
// tokens. Session i is created at $7 minus (i mod $11) seconds. Lifetimes are
// authbff's defaults: 8 h idle, 24 h absolute.
var seedSessionsSQL = `
INSERT INTO sessions (id, token_hash, user_id, expires, absolute_expires, active_organization_id, provider,
  provider_session_id, access_token, refresh_token, id_token, access_token_expires_at, refresh_token_expires_at,
  scope, ip_address, user_agent, last_seen_at, created_at, updated_at)
SELECT md5($1 || i::text)::uuid, ` + fmt.Sprintf(sqlTokenHash, "$1::text") + `, $4, c + interval '8 hours',
  c + interval '24 hours', $5, 'keycloak', md5('sid-' || $1 || i::text)::uuid::text,
  nullif(substr($6::bytea, 1, $8), ''::bytea), nullif(substr($6::bytea, $8 + 1, $9), ''::bytea),
  nullif(substr($6::bytea, $8 + $9 + 1, $10), ''::bytea),
  c + interval '5 minutes', c + interval '30 minutes', 'openid profile email organization', '127.0.0.1',
  'authbff-load/1', c, c, c
FROM generate_series($2::int, $3::int) AS i,
  LATERAL (SELECT $7::timestamptz - make_interval(secs => i % $11::int) AS c) t
ON CONFLICT DO NOTHING`
