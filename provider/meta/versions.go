package meta

import (
	"strings"
	"time"
)

// GraphVersion is one version of the Graph API and how long Meta serves it.
type GraphVersion struct {
	Name     string
	Released time.Time
	// Expires is the first day on which Meta no longer serves the version;
	// zero while Meta's versions page says "TBD".
	Expires time.Time
}

// GraphVersions is every Graph API version whose dates the exporter knows,
// oldest first, from Meta's versions page
// (https://developers.facebook.com/docs/graph-api/changelog/versions/, and
// for v26.0 and v27.0
// https://developers.facebook.com/documentation/development/graph-api/changelog).
// A version stays usable until two years after its successor's release; the
// page gives no expiry for the newest ones yet, and none is guessed here.
// After its expiry, a request for a version "will be defaulted to the next
// oldest, usable version" (https://developers.facebook.com/docs/apps/versions):
// Graph answers, silently, in another version. This table is the only place
// the dates are kept; add a row when Meta publishes a new version.
var GraphVersions = []GraphVersion{
	{Name: "v17.0", Released: date(2023, 5, 23), Expires: date(2025, 9, 12)},
	{Name: "v20.0", Released: date(2024, 5, 21), Expires: date(2026, 9, 24)},
	{Name: "v21.0", Released: date(2024, 10, 2), Expires: date(2027, 1, 21)},
	{Name: "v22.0", Released: date(2025, 1, 21), Expires: date(2027, 5, 20)},
	{Name: "v23.0", Released: date(2025, 5, 29), Expires: date(2027, 10, 8)},
	{Name: "v24.0", Released: date(2025, 10, 8), Expires: date(2028, 2, 18)},
	{Name: "v25.0", Released: date(2026, 2, 18), Expires: date(2028, 7, 29)},
	{Name: "v26.0", Released: date(2026, 7, 29)},
	{Name: "v27.0", Released: date(2026, 11, 4)},
}

// VersionExpiry returns when Meta stops serving a Graph API version, and
// false when that is not known: a version still "TBD", or one missing from
// GraphVersions.
func VersionExpiry(version string) (time.Time, bool) {
	for _, v := range GraphVersions {
		if strings.EqualFold(v.Name, strings.TrimSpace(version)) {
			return v.Expires, !v.Expires.IsZero()
		}
	}
	return time.Time{}, false
}

func date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}
