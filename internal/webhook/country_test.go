package webhook

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestCountry(t *testing.T) {
	for recipient, want := range map[string]string{
		"16505551234":        "US",
		"14165550123":        "CA", // +1 shared: Toronto's area code
		"5511955550113":      "BR",
		"447400123456":       "GB",
		"447911123456":       "GG", // +44 shared: a Guernsey mobile
		"447700900123":       "GB", // a prefix the metadata does not know: +44's main country
		"79123456789":        "RU",
		"77012345678":        "KZ", // +7 shared
		"390612345678":       "IT",
		"379":                "", // Vatican's +379, and nothing after it
		"80012345678":        "", // +800, international freephone: no country
		"999123":             "", // no such calling code
		"":                   "",
		"+16505551234":       "", // not the digits a WhatsApp ID is
		"120363040000000000": "", // a group ID, too long for a number
	} {
		if got := Country(recipient); got != want {
			t.Errorf("Country(%q) = %q, want %q", recipient, got, want)
		}
	}
}

// parseCountry is Country done the library's documented way, with Parse.
func parseCountry(recipient string) string {
	n, err := phonenumbers.Parse("+"+recipient, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(n)
	if r == "" {
		r = phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	}
	return region(r)
}

// Country reads digits the way phonenumbers.Parse does, wherever Parse
// reads a number at all.
func TestCountryAgreesWithParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"1", "7", "44", "39", "33", "49", "55", "91", "62", "234", "971", "852", "590", "262", "61", "47", "358", "599", "212"}
	for range 5000 {
		r := prefixes[rng.IntN(len(prefixes))]
		for n := 6 + rng.IntN(8); len(r) < n; {
			r += strconv.Itoa(rng.IntN(10))
		}
		if want := parseCountry(r); want != "" && Country(r) != want {
			t.Errorf("Country(%q) = %q, Parse says %q", r, Country(r), want)
		}
	}
}

func BenchmarkCountry(b *testing.B) {
	for b.Loop() {
		Country("16505551234")
		Country("5511955550113")
	}
}
