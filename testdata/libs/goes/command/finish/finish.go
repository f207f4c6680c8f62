// Package finish is a stand-in for github.com/modernice/goes/command/finish
// at v0.9.0: the options a command handler's Finish call takes.
package finish

import "time"

// Config is what Finish reports.
type Config struct {
	Err     error
	Runtime time.Duration
}

// Option sets a Config field.
type Option func(*Config)

// Configure applies opts to a zero Config.
func Configure(opts ...Option) Config {
	var c Config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithError reports err.
func WithError(err error) Option { return func(c *Config) { c.Err = err } }

// WithRuntime reports d.
func WithRuntime(d time.Duration) Option { return func(c *Config) { c.Runtime = d } }
