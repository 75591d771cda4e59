package provider

import "time"

// Capabilities is what one provider's API can do. Each provider package
// declares its own, next to the client that relies on them; the config's
// defaults and validation and the scheduler's query planning read them from
// there, so that a rule about an API is written once.
type Capabilities struct {
	// Name is the provider's value of the config's provider key.
	Name string
	// DefaultURL is the API root used when the config gives none; empty
	// when the config must give one (a BSP's own URL).
	DefaultURL string
	// Auth is the kind of credential the API takes.
	Auth Auth
	// AppSecretProof says whether requests can be signed with
	// appsecret_proof, an HMAC keyed with the Meta app's secret.
	AppSecretProof bool
	// Versioned says whether request paths carry a Graph API version.
	Versioned bool
	// VersionExpiry, for a versioned API, says when a version stops being
	// served; false when that is not known.
	VersionExpiry func(version string) (time.Time, bool)
	// Cost says whether the API can report cost at all. Where it cannot,
	// cost is never asked for and the cost series are absent.
	Cost bool
	// WholeDays says that requests name whole days (dates), not instants:
	// every request then starts at midnight, whatever the granularity.
	WholeDays bool
	// DiscoverPhones and DiscoverTemplates say whether the API can list a
	// WABA's phone numbers and message templates, so that the config need
	// not list them.
	DiscoverPhones, DiscoverTemplates bool
	// PricingFilters says whether pricing analytics can be filtered by
	// pricing category and type.
	PricingFilters bool
	// TemplateProducts are the APIs whose template sends the template
	// analytics report, one query each.
	TemplateProducts []TemplateProduct
	// WABAFields says whether the API can read the WABA's own fields
	// (Source.WABA), such as its currency.
	WABAFields bool
	// AccountHealth says whether the API can tell the status, quality and
	// limits of a WABA's phone numbers and templates
	// (Source.PhoneHealth, Source.TemplateHealth).
	AccountHealth bool
	// CombinedFields says whether several families of one WABA can be
	// asked for in one request (FieldsSource), each with its own window.
	CombinedFields bool
	// Discovery says whether the API lists the WABAs a credential can
	// read (Lister); DiscoveryByBusiness, whether such a listing names a
	// business (Meta's business portfolio) rather than the credential
	// naming the account (a Vonage API key).
	Discovery, DiscoveryByBusiness bool
	// Families says how each family is served; a family that is not
	// listed is not offered.
	Families map[Family]FamilyCapabilities
}

// FamilyCapabilities is how a provider serves one analytics family.
type FamilyCapabilities struct {
	Offer Offer
	// Granularities are the bucket sizes the family can be asked for.
	Granularities []Granularity
	// History is how far back the API answers; 0 when it documents no
	// limit.
	History time.Duration
	// LocalDays says that the family's day and month buckets begin at the
	// WABA's local midnight (Meta's, in the zone of the WABA's
	// timezone_id) rather than at UTC's.
	LocalDays bool
	// Matures is how long after a bucket ends the API may still raise its
	// values (a template's reads and clicks grow for a week after a send);
	// 0 when it documents none.
	Matures time.Duration
	// OneAnswer says that the family's answers are never paged and carry
	// no breakdown rows (totals per bucket): a month of half hours is one
	// small answer, so asking for days instead saves nothing.
	OneAnswer bool
}

// Offer is how a provider serves one analytics family.
type Offer int

const (
	// NotOffered families are off, and turning one on is a config error:
	// the API has no endpoint for it, so a refresh could only ever fail.
	NotOffered Offer = iota
	// Offered families are fetched unless the config disables them.
	Offered
	// OptIn families are off unless the config turns them on: the API
	// may serve them, but whether it does is only known by trying (a BSP
	// that forwards Graph fields it does not document).
	OptIn
)

// Auth is the kind of credential an API takes.
type Auth int

const (
	// BearerToken is an access token (or a BSP's API key) sent as
	// "Authorization: Bearer".
	BearerToken Auth = iota
	// KeyAndSecret is an API key and secret sent as HTTP Basic auth.
	KeyAndSecret
)

// Family returns how the provider serves f.
func (c Capabilities) Family(f Family) FamilyCapabilities { return c.Families[f] }

// TemplateMaturity is how long a template's figures keep growing after the
// day they belong to: reads and clicks are counted against the day of the
// send, and update for 7 days after it (Meta's Analytics page, "Template
// analytics",
// https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/).
// Every provider serves Meta's template analytics, so it holds for all.
const TemplateMaturity = 7 * 24 * time.Hour

// AllGranularities is every bucket size, for families that take them all.
var AllGranularities = []Granularity{HalfHour, Day, Month}
