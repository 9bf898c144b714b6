package main

import "github.com/authbff/authbff/domain"

// statsJSON is the JSON form of the statistics printed by `sessions stats --json`.
func statsJSON(st domain.SessionStats) map[string]any {
	return map[string]any{
		"total":                 st.Total,
		"active":                st.Active,
		"expired":               st.Expired,
		"averageDurationHours":  st.AverageDurationHours,
		"createdLast24h":        st.CreatedLast24h,
		"activePerOrganization": st.ActivePerOrganization,
	}
}
