package jetstream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// Defaults of a Balancer, and of the runner fields it reads.
const (
	defaultInterval = time.Second
	defaultLease    = 10 * time.Second // projection.Runner's default Lease
	// stoppedRetry is how long a partition whose runner stopped (a
	// poison event, under the Stop policy) waits before it is run again.
	stoppedRetry = 10 * time.Second
	maxRetry     = 30 * time.Second
)

// Advisory lock keys of a Balancer, in the current schema as the
// runner's are. Every member holds the projection's members key shared,
// so that pg_locks counts the members; a member that runs a partition
// holds its claim key.
const (
	membersKey = `hashtextextended('projgen-members:' || coalesce(current_schema(), '') || ':' || $1::text, 0)`
	claimKey   = `hashtextextended('projgen-claim:' || coalesce(current_schema(), '') || ':' || $1::text, 0)`
	membersSQL = `SELECT count(*) FROM pg_locks l, (SELECT ` + membersKey + ` AS k) m
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND l.classid = ((m.k >> 32) & 4294967295)::oid AND l.objid = (m.k & 4294967295)::oid`
)

// Balancer runs a share of a partitioned projection's partitions in this
// process, each with a projection.Runner of its own, and lets the other
// processes that run a Balancer over the same partitions have theirs.
//
// The runners alone keep the guarantees: one owner per partition at a
// time (its advisory lock), takeover of a dead or frozen owner within
// Lease, each event applied once (the tracking row in the batch's
// transaction). The Balancer only chooses which process tries: every
// process is a member of the projection, holding a shared advisory lock
// on a session of its own, and claims partitions, with another advisory
// lock each, until it has its share, ceil(partitions / members). When a
// member joins, the others let go of what they hold beyond their new
// share; when one dies, or freezes for Lease, the server ends its
// sessions, which releases its membership, its claims and its runners'
// locks, and the others claim its partitions.
//
// The Pool of Runner must allow a connection per partition and two more:
// a process alone runs every partition.
type Balancer struct {
	// Runner is the template of the partitions' runners: Pool, Types
	// and the optional fields. Each partition's runner gets its
	// Registration and Source.
	Runner projection.Runner
	// Partitions are the partitions, as Partitioned returns them.
	Partitions []Partition
	// Interval is how often the balancer counts the members and claims
	// or lets go of partitions; default a second, and at most a third of
	// the runner's Lease, since it renews the lease of its session.
	Interval time.Duration
}

// Run runs the process's share of the partitions until ctx is done, and
// returns nil then. It retries lost connections; it returns an error
// only for a balancer that cannot work.
func (b *Balancer) Run(ctx context.Context) error {
	if err := b.check(); err != nil {
		return err
	}
	var delay time.Duration
	for {
		start := time.Now()
		err := b.member(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > maxRetry {
			delay = 0
		}
		delay = min(max(2*delay, 100*time.Millisecond), maxRetry)
		b.logger().Warn("partition balancer: lost its session; every partition it ran is stopped, rejoining", "projection", b.Partitions[0].Projection, "error", err, "retry_in", delay)
		if err := sleep(ctx, delay/2+rand.N(delay/2+1)); err != nil {
			return nil
		}
	}
}

// check reports a balancer that cannot work.
func (b *Balancer) check() error {
	n := len(b.Partitions)
	switch {
	case n == 0:
		return errors.New("partition balancer: no partitions")
	case b.Runner.Pool == nil:
		return errors.New("partition balancer: Runner.Pool is nil")
	case b.interval() >= b.lease()/2:
		return fmt.Errorf("partition balancer: Interval %s must be less than half the Lease %s: the balancer renews its lease once per interval", b.interval(), b.lease())
	}
	for i, p := range b.Partitions {
		if p.Projection != b.Partitions[0].Projection || p.Count != n || p.Index != i {
			return fmt.Errorf("partition balancer: partition %d is %s, %d of %d: want the partitions of one projection, in order, as Partitioned returns them", i, p.Registration.Name, p.Index, p.Count)
		}
	}
	if maxConns := int(b.Runner.Pool.Config().MaxConns); maxConns < n+2 {
		return fmt.Errorf("partition balancer: the pool allows %d connections but %d are needed (one per partition, one to balance, one more): raise pool_max_conns", maxConns, n+2)
	}
	return nil
}

// running is a partition this process has claimed and runs.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// member joins the projection on a session of its own and balances until
// ctx is done or the session fails; every partition it ran is stopped
// when it returns.
func (b *Balancer) member(ctx context.Context) error {
	name := b.Partitions[0].Projection
	conn, err := b.Runner.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	runs := map[int]*running{}
	defer func() {
		for _, r := range runs {
			r.cancel()
		}
		for _, r := range runs {
			<-r.done
		}
		// Ending the session releases the membership and the claims.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Hijack().Close(cleanup)
	}()
	if err := b.setLease(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock_shared(`+membersKey+`)`, name); err != nil {
		return fmt.Errorf("join the projection's members: %w", err)
	}
	b.logger().Info("partition balancer: joined", "projection", name, "partitions", len(b.Partitions))
	order := b.claimOrder()
	for {
		var members int
		if err := conn.QueryRow(ctx, membersSQL, name).Scan(&members); err != nil {
			return fmt.Errorf("count the projection's members: %w", err)
		}
		share := (len(b.Partitions) + max(members, 1) - 1) / max(members, 1)
		// Let go of the partitions beyond the share, the last claimed
		// first: stop the runner, whose session ends, then the claim.
		for len(runs) > share {
			i := slices.Max(slices.Collect(maps.Keys(runs)))
			r := runs[i]
			r.cancel()
			<-r.done
			delete(runs, i)
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(`+claimKey+`)`, b.Partitions[i].Registration.Name); err != nil {
				return fmt.Errorf("let go of partition %d: %w", i, err)
			}
			b.logger().Info("partition balancer: let go of a partition for another member", "partition", b.Partitions[i].Registration.Name, "members", members, "share", share)
		}
		for _, i := range order {
			if len(runs) >= share {
				break
			}
			if runs[i] != nil {
				continue
			}
			var claimed bool
			if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+claimKey+`)`, b.Partitions[i].Registration.Name).Scan(&claimed); err != nil {
				return fmt.Errorf("claim partition %d: %w", i, err)
			}
			if claimed {
				runs[i] = b.start(ctx, b.Partitions[i])
				b.logger().Info("partition balancer: claimed a partition", "partition", b.Partitions[i].Registration.Name, "members", members, "share", share)
			}
		}
		if err := sleep(ctx, b.interval()); err != nil {
			return err
		}
	}
}

// start runs p with a runner of its own until the returned running is
// cancelled, running it again a while after it stops on a poison event.
func (b *Balancer) start(ctx context.Context, p Partition) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{})}
	runner := b.Runner
	runner.Source = p.Source
	runner.Registrations = []projection.Registration{p.Registration}
	go func() {
		defer close(r.done)
		for {
			err := runner.Run(ctx)
			if ctx.Err() != nil {
				return
			}
			b.logger().Error("partition balancer: the partition stopped; running it again later", "partition", p.Registration.Name, "error", err, "retry_in", stoppedRetry)
			if sleep(ctx, stoppedRetry) != nil {
				return
			}
		}
	}()
	return r
}

// claimOrder returns the order in which this process tries to claim
// partitions: from an offset of its own, so that members starting
// together do not all try the same partitions first.
func (b *Balancer) claimOrder() []int {
	h := fnv.New32a()
	host, _ := os.Hostname()
	fmt.Fprintf(h, "%s %d %s", host, os.Getpid(), b.Runner.ID)
	n := len(b.Partitions)
	offset := int(h.Sum32() % uint32(n))
	order := make([]int, n)
	for i := range order {
		order[i] = (offset + i) % n
	}
	return order
}

// setLease has the server end the balancer's session after Lease
// without a word from it, as the runner does for its own, so that a
// frozen process gives up its membership and claims.
func (b *Balancer) setLease(ctx context.Context, conn *pgxpool.Conn) error {
	ms := fmt.Sprint(b.lease().Milliseconds())
	for _, setting := range []string{"idle_in_transaction_session_timeout", "tcp_user_timeout", "idle_session_timeout"} {
		_, err := conn.Exec(ctx, `SELECT set_config($1, $2, false)`, setting, ms)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42704" { // an older server
			continue
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", setting, err)
		}
	}
	return nil
}

func (b *Balancer) interval() time.Duration {
	if b.Interval > 0 {
		return b.Interval
	}
	return min(defaultInterval, b.lease()/3)
}

func (b *Balancer) lease() time.Duration {
	if b.Runner.Lease > 0 {
		return b.Runner.Lease
	}
	return defaultLease
}

func (b *Balancer) logger() *slog.Logger {
	if b.Runner.Logger != nil {
		return b.Runner.Logger
	}
	return slog.Default()
}

// sleep waits for d, or returns ctx's error when ctx is done first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
