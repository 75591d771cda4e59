package meta

import (
	"testing"
	"time"
)

func TestVersionExpiry(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    time.Time
		known   bool
	}{
		{"v21.0", time.Date(2027, 1, 21, 0, 0, 0, 0, time.UTC), true},
		{"v25.0", time.Date(2028, 7, 29, 0, 0, 0, 0, time.UTC), true},
		{" V25.0 ", time.Date(2028, 7, 29, 0, 0, 0, 0, time.UTC), true},
		{"v26.0", time.Time{}, false}, // "TBD" on Meta's page: not guessed
		{"v27.0", time.Time{}, false},
		{"v99.0", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, known := VersionExpiry(tc.version)
		if !got.Equal(tc.want) || known != tc.known {
			t.Errorf("VersionExpiry(%q) = %v, %v; want %v, %v", tc.version, got, known, tc.want, tc.known)
		}
	}
}

// TestGraphVersionsTable keeps the table in order and consistent: a
// version is released before it expires, and after the one before it.
func TestGraphVersionsTable(t *testing.T) {
	for i, v := range GraphVersions {
		if !v.Expires.IsZero() && !v.Released.Before(v.Expires) {
			t.Errorf("%s expires %v, before its release %v", v.Name, v.Expires, v.Released)
		}
		if i > 0 && !GraphVersions[i-1].Released.Before(v.Released) {
			t.Errorf("%s is listed after %s but released earlier", v.Name, GraphVersions[i-1].Name)
		}
	}
}
