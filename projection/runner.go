package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of the Runner's optional fields.
//   - A batch of 500 keeps transactions short while paying for a commit
//     per many events.
//   - A poll every 100ms keeps a live projection within a fraction of a
//     second of its writers, for one small query per projection.
//   - A lease of 10s lets a standby take over a frozen runner within
//     seconds, and stays far above the time a healthy runner leaves its
//     connection idle (a poll interval, or reading one page).
//   - A warning after a minute of being held back by an open transaction
//     flags a stuck writer without crying wolf over a slow one.
const (
	defaultBatchSize    = 500
	defaultPollInterval = 100 * time.Millisecond
	defaultLease        = 10 * time.Second
	defaultStallWarning = time.Minute
)

// Bounds of the wait between retries of a transient error: it starts at
// minRetryDelay and doubles up to maxRetryDelay, so that a database that is
// restarting is neither hammered nor waited on for long once it is back.
const (
	minRetryDelay = 100 * time.Millisecond
	maxRetryDelay = 30 * time.Second
)

// ErrorPolicy says what the runner does with an event a projection fails
// on: one that does not decode, or that its handler returns an error for.
type ErrorPolicy int

const (
	// Stop stops the projection at the event, with the event's position,
	// topic and aggregate recorded for Status, and leaves the other
	// projections running. The event is never skipped: the next run tries
	// it again. This is the default.
	Stop ErrorPolicy = iota
	// Park moves the event to the dead-letter table, projgen_dead_letters,
	// with its error and the time, and goes on. Every later event of the
	// same aggregate is parked behind it, so that no aggregate's rows see
	// its events out of order; Runner.RetryParked applies them, in order,
	// once the cause is fixed.
	Park
)

// String returns the policy's name, as the runner main's flags spell it.
func (p ErrorPolicy) String() string {
	if p == Park {
		return "park"
	}
	return "stop"
}

// Runner applies events to projections, exactly once: for each batch it
// opens one transaction on Pool, builds the projection on it
// (Registration.New(tx)), applies the events, and advances the
// projection's tracking row in the same transaction, then commits. A crash
// loses nothing and applies nothing twice.
//
// Each projection runs on one connection of Pool, which holds the
// projection's advisory lock and carries its transactions, while Source
// reads on connections of its own. Run therefore needs a pool of at least
// one connection per projection and one more (pool_max_conns in the URL);
// it says so rather than wait forever for a connection.
type Runner struct {
	// Pool is the database of the read models and of the tracking table.
	Pool *pgxpool.Pool
	// Source is where events are read from.
	Source EventSource
	// Types decodes stored payloads; generated registries return it as
	// EventTypes().
	Types EventTypes
	// Registrations are the projections to run; generated registries
	// return them as Registrations().
	Registrations []Registration
	// BatchSize is the most events applied in one transaction; default 500.
	BatchSize int
	// PollInterval is how long to wait when caught up; default 100ms.
	PollInterval time.Duration
	// Lease bounds how long a runner that stops responding (frozen,
	// partitioned away) keeps a projection: the database ends the
	// session of the runner's connection after Lease without a word from
	// it, which releases the projection to a standby. The runner speaks
	// at least every PollInterval, so Lease must be more than twice
	// that; default 10s. Within a batch it speaks with every statement of
	// the projection: one that pauses longer than Lease between two
	// statements (a slow call to another system) loses the session, and
	// the batch is rolled back and tried again.
	Lease time.Duration
	// StallWarning is how long an open transaction may keep committed
	// events from the projections before the runner logs a warning that
	// names its session; default 1m.
	StallWarning time.Duration
	// ID names this runner in Status; default host name and process id.
	ID string
	// Logger receives progress, waits and retries; default slog.Default().
	Logger *slog.Logger
	// RebuildChunk is the most keys whose rows a fast rebuild (see
	// Registration.Fold) holds in memory at once; default 100,000. Past
	// it, the rebuild folds the keys in shares, reading the events once
	// per share.
	RebuildChunk int
}

// errPositionMoved reports that a projection's tracking row changed under
// a batch, which only another runner or a rebuild ignoring the advisory
// lock can cause. The batch is rolled back and retried from the new
// position, so it is a transient error.
var errPositionMoved = errors.New("tracking position moved during the batch")

// errPaused reports that a rebuild or a retry of parked events asked for
// the projection: the runner lets go of it and takes it back once the
// request is gone.
var errPaused = errors.New("a rebuild or retry asked for the projection")

// Run runs every registered projection until ctx is done.
//
// Only one runner process runs a given projection at a time: each holds a
// PostgreSQL session advisory lock on a connection of its own while it
// runs, and the others wait for the lock as standbys; a runner that stops
// responding loses the lock within Lease. Transient errors (connection
// errors, serialization failure 40001, deadlock 40P01) are retried with
// exponential backoff, from 100ms up to 30s.
//
// A poison event, one the projection returns an error for or whose
// payload does not decode, stops only its projection (or is parked, by
// its Registration's OnError): the error names the projection and the
// event's position, topic and aggregate, is logged and recorded for
// Status, and the other projections go on. Run returns nil when ctx is
// done, and the joined errors when every projection has stopped.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.Registrations) == 0 {
		return errors.New("projection runner: no projections to run")
	}
	if err := r.check(true, len(r.Registrations)+1); err != nil {
		return err
	}
	errs := make([]error, len(r.Registrations))
	var wg sync.WaitGroup
	for i, reg := range r.Registrations {
		wg.Go(func() {
			err := r.project(ctx, reg, true)
			if err == nil || ctx.Err() != nil {
				return
			}
			errs[i] = fmt.Errorf("projection %q: %w", reg.Name, err)
			r.logger().Error("projection stopped; the others go on", "projection", reg.Name, "error", err)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

// CatchUp applies every event available now to the named projection, then
// returns (no waiting, no polling): what tests and one-off jobs use. "Now"
// is when it holds the projection's advisory lock, which it waits for like
// Run; transient errors are retried as Run does.
func (r *Runner) CatchUp(ctx context.Context, name string) error {
	reg, err := r.registration(name)
	if err != nil {
		return err
	}
	if err := r.check(true, 2); err != nil {
		return err
	}
	if err := r.project(ctx, reg, false); err != nil {
		return fmt.Errorf("catch up projection %q: %w", name, err)
	}
	return nil
}

// project runs reg on a connection that holds it, following new events
// with follow, until ctx is done, a poison event stops it, or, without
// follow, it has caught up. It lets go of the projection while a rebuild
// asks for it, and takes it back afterwards.
func (r *Runner) project(ctx context.Context, reg Registration, follow bool) error {
	for {
		err := r.retry(ctx, reg.Name, func(progress func()) error {
			return r.hold(ctx, reg.Name, "", func(h *holding) error {
				return r.follow(ctx, h, reg, follow, progress)
			})
		})
		if !errors.Is(err, errPaused) {
			return err
		}
		r.logger().Info("projection paused for a rebuild or retry", "projection", reg.Name)
		if err := r.waitUnpaused(ctx, reg.Name); err != nil {
			return err
		}
	}
}

// follow applies pages of events to reg from the position h holds. With
// follow it goes on as events become available, until ctx is done, and
// returns ctx's error then. Without, it stops at the end the source could
// read when it began, so that it ends even while writers keep appending.
func (r *Runner) follow(ctx context.Context, h *holding, reg Registration, follow bool, progress func()) error {
	r.logger().Info("projection started", "projection", reg.Name, "position", h.position, "follow", follow)
	bound := int64(-1)
	var lastCheck time.Time
	// ahead is the next page, read while the current one is applied.
	var ahead *readAhead
	defer func() { ahead.discard() }()
	for {
		var page Page
		var err error
		if ahead != nil && ahead.after == h.position {
			page, err = ahead.wait()
		} else {
			page, err = r.Source.Read(ctx, h.position, reg.Topics, r.batchSize())
		}
		ahead.discard()
		ahead = nil
		if err != nil {
			return err
		}
		if err := checkPage(page, h.position); err != nil {
			return err
		}
		if !follow {
			if bound < 0 {
				bound = page.End
			}
			page = page.upTo(bound)
		}
		if page.Through > h.position {
			// More is there to read: read it while this page is
			// applied. The read starts from this page's end, which
			// the read after a commit would start from too, so what
			// it returns is the same; it is dropped unless the page
			// commits through there.
			if page.Through < page.End && (follow || page.Through < bound) {
				ahead = r.startReadAhead(ctx, page.Through, reg.Topics, r.batchSize())
			}
			if err := r.applyPage(ctx, h, reg, page); err != nil {
				return err
			}
			progress()
		}
		if !follow && h.position >= bound {
			r.logger().Debug("projection caught up", "projection", reg.Name, "position", h.position)
			return nil
		}
		if page.Through < page.End {
			continue
		}
		if err := h.heartbeat(ctx); err != nil {
			return err
		}
		if time.Since(lastCheck) > r.stallWarning()/4 {
			lastCheck = time.Now()
			r.warnIfHeldBack(ctx, h, reg)
		}
		if err := sleep(ctx, r.pollInterval()); err != nil {
			return err
		}
	}
}

// checkPage refuses a page that would make the tracked position skip or
// repeat events: one out of order, or reaching back before after.
func checkPage(page Page, after int64) error {
	last := after
	for _, e := range page.Events {
		if e.Position <= last {
			return fmt.Errorf("event source returned position %d after %d: events must come in increasing position order", e.Position, last)
		}
		last = e.Position
	}
	if page.Through < last || page.End < page.Through {
		return fmt.Errorf("event source returned a page through %d ending at %d with events up to %d: want events ≤ through ≤ end", page.Through, page.End, last)
	}
	return nil
}

// upTo returns the page without its events past bound, through bound at
// most.
func (p Page) upTo(bound int64) Page {
	if p.Through <= bound {
		return p
	}
	i := 0
	for i < len(p.Events) && p.Events[i].Position <= bound {
		i++
	}
	return Page{Events: p.Events[:i], Through: bound, End: p.End}
}

// warnIfHeldBack logs a warning when an open transaction has kept
// committed events from the projection for longer than StallWarning.
func (r *Runner) warnIfHeldBack(ctx context.Context, h *holding, reg Registration) {
	b, err := r.Source.Backlog(ctx, h.position, reg.Topics)
	if err != nil {
		r.logger().Debug("could not read the backlog", "projection", reg.Name, "error", err)
		return
	}
	if b.HeldBack == nil || time.Since(b.HeldBack.Since) < r.stallWarning() {
		return
	}
	pids := make([]string, len(b.HeldBack.Holders))
	for i, hb := range b.HeldBack.Holders {
		pids[i] = fmt.Sprint(hb.PID)
	}
	r.logger().Warn("an open transaction that wrote events holds the projection back; end it, or pg_terminate_backend its session",
		"projection", reg.Name, "position", h.position, "through", b.HeldBack.Through, "head", b.Head,
		"since", b.HeldBack.Since, "pids", strings.Join(pids, ","))
}

// registration returns the registration named name.
func (r *Runner) registration(name string) (Registration, error) {
	for _, reg := range r.Registrations {
		if reg.Name == name {
			return reg, nil
		}
	}
	return Registration{}, fmt.Errorf("projection runner: no projection named %q (have %s)", name, strings.Join(r.names(), ", "))
}

// names returns the names of the registered projections.
func (r *Runner) names() []string {
	names := make([]string, len(r.Registrations))
	for i, reg := range r.Registrations {
		names[i] = reg.Name
	}
	return names
}

// check reports a runner that cannot work, before it starts: a missing
// field, a duplicate name, a lease too short for the poll interval, or a
// pool too small for conns connections at once, which would otherwise
// wait for a connection forever.
func (r *Runner) check(needSource bool, conns int) error {
	switch {
	case r.Pool == nil:
		return errors.New("projection runner: Pool is nil")
	case needSource && r.Source == nil:
		return errors.New("projection runner: Source is nil")
	case needSource && r.Types == nil:
		return errors.New("projection runner: Types is nil")
	case r.lease() <= 2*r.pollInterval():
		return fmt.Errorf("projection runner: Lease %s must be more than twice PollInterval %s: the runner proves it is alive once per poll", r.lease(), r.pollInterval())
	}
	seen := make(map[string]bool, len(r.Registrations))
	for i, reg := range r.Registrations {
		switch {
		case reg.Name == "":
			return fmt.Errorf("projection runner: registration %d has no name", i)
		case reg.New == nil:
			return fmt.Errorf("projection runner: projection %q has no New", reg.Name)
		case seen[reg.Name]:
			return fmt.Errorf("projection runner: two projections named %q", reg.Name)
		}
		seen[reg.Name] = true
	}
	if maxConns := int(r.Pool.Config().MaxConns); maxConns < conns {
		return fmt.Errorf("projection runner: the pool allows %d connections but %d are needed (one per projection, one more to read events): raise pool_max_conns", maxConns, conns)
	}
	return nil
}

// batchSize returns BatchSize, or its default when it is not set.
func (r *Runner) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return defaultBatchSize
}

// pollInterval returns PollInterval, or its default when it is not set.
func (r *Runner) pollInterval() time.Duration {
	if r.PollInterval > 0 {
		return r.PollInterval
	}
	return defaultPollInterval
}

// lease returns Lease, or its default when it is not set.
func (r *Runner) lease() time.Duration {
	if r.Lease > 0 {
		return r.Lease
	}
	return defaultLease
}

// stallWarning returns StallWarning, or its default when it is not set.
func (r *Runner) stallWarning() time.Duration {
	if r.StallWarning > 0 {
		return r.StallWarning
	}
	return defaultStallWarning
}

// id returns ID, or the host name and process id when it is not set.
func (r *Runner) id() string {
	if r.ID != "" {
		return r.ID
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

// logger returns Logger, or slog.Default() when it is not set.
func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// readAhead is a read of the next page, running while a batch commits.
type readAhead struct {
	after  int64
	cancel context.CancelFunc
	done   chan struct{}
	page   Page
	err    error
}

// startReadAhead starts reading the page of at most limit events after
// position after. At most one runs per projection, so the runner holds
// two pages at most.
func (r *Runner) startReadAhead(ctx context.Context, after int64, topics []string, limit int) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	a := &readAhead{after: after, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.page, a.err = r.Source.Read(ctx, after, topics, limit)
	}()
	return a
}

// wait returns the page read ahead.
func (a *readAhead) wait() (Page, error) {
	<-a.done
	return a.page, a.err
}

// discard stops a read ahead that will not be used and waits for it, so
// that no read outlives the projection's hold; nil does nothing.
func (a *readAhead) discard() {
	if a == nil {
		return
	}
	a.cancel()
	<-a.done
}
