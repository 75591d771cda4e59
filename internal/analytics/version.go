package analytics

import "time"

// APIVersion is the API version an account asks for and the one that
// answered it.
type APIVersion struct {
	// Configured is the version in the account's request paths.
	Configured string
	// Served is the version the latest answer that named one was served
	// in (Graph's facebook-api-version header); empty until an answer
	// named one. It differs from Configured once Meta no longer serves the
	// configured version and answers in another.
	Served string
	// Expires is when the configured version stops being served; zero
	// when that is not known.
	Expires time.Time
}
