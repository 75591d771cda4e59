// Package logging builds the exporter's logger: go-kit/log with levels, in
// logfmt or JSON, and a view of it as a *slog.Logger for exporter-toolkit,
// which logs through slog.
package logging

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"
)

// New returns the logger at lvl (debug, info, warn, error) in format
// (logfmt or json), and its slog view. The slog bridge adds its own time and
// caller, so it wraps the logger before those are added; both use the key
// "time", as current Prometheus components do.
func New(format, lvl string) (log.Logger, *slog.Logger) {
	base := log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	if format == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	}
	base = level.NewFilter(base, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	slogLevel := new(slog.LevelVar)
	if lvl == "debug" {
		slogLevel.Set(slog.LevelDebug)
	}
	return log.With(base, "time", log.DefaultTimestampUTC, "caller", log.DefaultCaller),
		slog.New(slgk.NewGoKitHandler(base, slogLevel))
}

// PromHTTP lets promhttp report encoding errors through go-kit.
type PromHTTP struct{ Logger log.Logger }

func (l PromHTTP) Println(v ...any) { level.Error(l.Logger).Log("msg", fmt.Sprint(v...)) }
