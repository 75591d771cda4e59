package webhook

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// Country is the ISO 3166-1 alpha-2 code of the country of a recipient's
// WhatsApp ID, which is normally the user's phone number with its country
// code (the status webhook reference), read with libphonenumber's metadata
// (github.com/nyaruka/phonenumbers): the calling code, and where several
// countries share one (+1, +7, +44), the number's own prefix; a number
// whose prefix the metadata does not know gets the calling code's main
// country (+44: GB). It is "" for an ID that is no phone number (a group's,
// a business-scoped user ID) or has no known calling code, so that the
// label takes one of about 250 values at most.
//
// The ID is digits already: the calling code is read off its first one to
// three digits (calling codes are prefix-free), and only a code that
// several countries share goes through the library's number matching.
// phonenumbers.Parse would do the same after regular expressions for the
// formatting and extensions that an ID never has, at ten times the cost.
func Country(recipient string) string {
	if !allDigits(recipient, maxRecipientDigits) {
		return ""
	}
	for n := 1; n <= 3 && n < len(recipient); n++ {
		code, _ := strconv.Atoi(recipient[:n])
		main := phonenumbers.GetRegionCodeForCountryCode(code)
		if main == phonenumbers.UNKNOWN_REGION {
			continue
		}
		if len(phonenumbers.GetRegionCodesForCountryCode(code)) == 1 {
			return region(main)
		}
		national := recipient[n:]
		number, err := strconv.ParseUint(national, 10, 64)
		if err != nil {
			return region(main)
		}
		cc := int32(code)
		num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &number}
		if zeros := int32(len(national) - len(strconv.FormatUint(number, 10))); zeros > 0 {
			italian := true
			num.ItalianLeadingZero, num.NumberOfLeadingZeros = &italian, &zeros
		}
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" {
			return region(r)
		}
		return region(main)
	}
	return ""
}

// region keeps what is a country code: not "001", the library's region of
// non-geographic numbers (+800, +882).
func region(r string) string {
	if len(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z' || r == phonenumbers.UNKNOWN_REGION {
		return ""
	}
	return r
}
