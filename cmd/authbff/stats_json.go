package main

import (
	"math"

	"github.com/authbff/authbff/domain"
)

// statsJSON is the JSON form of the statistics printed by `sessions stats --json`.
// The average is rounded to two decimals, as the text form prints it: the
// database's float arithmetic otherwise shows 8.00000000372529 for 8 hours.
func statsJSON(st domain.SessionStats) map[string]any {
	return map[string]any{
		"total":                 st.Total,
		"active":                st.Active,
		"expired":               st.Expired,
		"averageDurationHours":  math.Round(st.AverageDurationHours*100) / 100,
		"createdLast24h":        st.CreatedLast24h,
		"activePerOrganization": st.ActivePerOrganization,
	}
}
