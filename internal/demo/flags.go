package demo

import (
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// Flags are the command-line flags of the demo.
type Flags struct {
	Enabled  bool
	Scenario string
	// The clock flags are hidden: they are for tests that need weeks of
	// demo data in seconds (see Clock).
	clockStart, clockSince time.Time
	clockSpeed             float64
}

// AddFlags registers the demo's flags on app (the application or one of its
// commands).
func AddFlags(app interface {
	Flag(name, help string) *kingpin.FlagClause
}) *Flags {
	f := &Flags{}
	app.Flag("demo", "Serve a built-in fake WhatsApp API with demo data and export it; needs no configuration or credentials.").
		BoolVar(&f.Enabled)
	app.Flag("demo.scenario", "What the demo data shows: healthy, or delivery-drop (one WABA delivers only half its messages, its number's quality is RED and its template paused).").
		Default(Healthy).EnumVar(&f.Scenario, Healthy, DeliveryDrop)
	app.Flag("demo.clock.start", "The demo's time at --demo.clock.since (RFC 3339).").Hidden().
		SetValue(timeValue{&f.clockStart})
	app.Flag("demo.clock.since", "The wall-clock time from which the demo's clock runs --demo.clock.speed times faster (RFC 3339).").Hidden().
		SetValue(timeValue{&f.clockSince})
	app.Flag("demo.clock.speed", "How much faster than the wall clock the demo's clock runs.").Hidden().
		Default("1").Float64Var(&f.clockSpeed)
	return f
}

// Start starts the demo the flags describe.
func (f *Flags) Start() (*Demo, error) {
	return Start(f.Scenario, f.Clock(), max(f.clockSpeed, 1))
}

// Clock is the clock the hidden clock flags set, or nil (the wall clock)
// when they set none. Outside the demo it is the exporter's clock against a
// fake API that a load test starts with the same flags (internal/fleetfake).
func (f *Flags) Clock() func() time.Time {
	if f.clockSpeed <= 1 && f.clockStart.IsZero() {
		return nil
	}
	c := Clock{Start: f.clockStart, Since: f.clockSince, Speed: f.clockSpeed}
	if c.Since.IsZero() {
		c.Since = time.Now()
	}
	if c.Start.IsZero() {
		c.Start = c.Since
	}
	return c.Now
}

// Clock is a clock that reads Start at the wall-clock time Since and runs
// Speed times faster than the wall clock from there. Two processes given the
// same Clock agree on the time, so a restarted exporter carries on where the
// first one was.
type Clock struct {
	Start, Since time.Time
	Speed        float64
}

// Now is the clock's time.
func (c Clock) Now() time.Time {
	return c.Start.Add(time.Duration(float64(time.Since(c.Since)) * max(c.Speed, 1)))
}

// timeValue is a kingpin flag value in RFC 3339.
type timeValue struct{ t *time.Time }

func (v timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	*v.t = t
	return err
}

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339Nano)
}
