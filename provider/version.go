package provider

// VersionObserver is an Observer that also wants to know which API version
// served each answer. It is a separate interface so that an Observer that
// does not care need not change.
type VersionObserver interface {
	// ObserveVersion is called with the version an answer says served it,
	// such as Graph's facebook-api-version header ("v25.0"), for every
	// answer that names one.
	ObserveVersion(version string)
}

// ObserveVersion tells obs the version that served an answer, if obs wants
// to know.
func ObserveVersion(obs Observer, version string) {
	if v, ok := obs.(VersionObserver); ok && version != "" {
		v.ObserveVersion(version)
	}
}
