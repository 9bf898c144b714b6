package domain

// SessionStats is the monitoring view of the sessions table, the query of the
// system authbff replaces plus a few operator favourites.
type SessionStats struct {
	Total   int64
	Active  int64 // expires > now (and absolute expiry not passed)
	Expired int64
	// AverageDurationHours is avg(expires - created_at) over all sessions, in
	// hours, as the replaced system's monitoring query computed it.
	AverageDurationHours float64
	CreatedLast24h       int64
	// ActivePerOrganization counts active sessions by active organization
	// alias; sessions with no active organization are not counted.
	ActivePerOrganization map[string]int64
}

// CleanupResult counts what a cleanup run removed.
type CleanupResult struct {
	Sessions           int64
	LoginFlows         int64
	VerificationTokens int64
}

// Total is the number of rows removed.
func (c CleanupResult) Total() int64 { return c.Sessions + c.LoginFlows + c.VerificationTokens }
