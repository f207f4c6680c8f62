// Package jetstream reads projgen projections' events from a NATS
// JetStream stream: Source is a projection.EventSource whose positions
// are the stream's sequences, and Partitioned and Balancer share one
// projection between runner processes by partitions of its aggregates.
//
// # What JetStream promises, and what Source adds
//
// The server gives every message it stores in a stream the next stream
// sequence, when it stores it, and never stores one below the last: a
// stream is totally ordered, and a reader never sees a lower sequence
// appear after a higher one, whatever the publishers do concurrently.
// Sequences are gap-free except where messages were deleted (DeleteMsg,
// purges, limits and MaxAge) and, for a reader filtering by subject,
// where messages of other subjects are. Messages one connection
// publishes are stored in the order it publishes them, so that an
// aggregate's events, published in turn by the writer that holds the
// aggregate, are stored in version order.
//
// Source adds what projection.EventSource asks on top of that: it reads
// with a consumer filtered by the topics' subjects where the layout
// names them (Layout.FilterSubject), checks that the consumer sent every
// message (consumer sequences without gaps; otherwise it starts a new
// consumer where it stands), drops messages of other topics, and moves
// Page.Through past the sequences it did not receive, those of other
// subjects and deleted ones, as far as the server shows that none of the
// topics' messages lies there: up to the stream's last sequence, read
// before the fetch, once the consumer reports nothing pending. A gap in
// the sequences is then never a missing event. Should JetStream ever
// send a sequence at or below a Through the source returned, Read fails
// rather than skip it.
//
// Sequences start at 1; position 0 is before the first message. A purge
// does not reset them. A Source reads one stream; a projection whose
// events are in several streams needs a stream that sources them
// (StreamConfig.Sources) to order them in one sequence.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
)

// Defaults of a Source.
//   - Idle consumers are deleted after a minute, by the source, and after
//     five by the server, should the process die.
//   - Sixteen cursors serve the projections of one runner, each at its
//     own position, and a few partitions more.
const (
	idleCursor        = time.Minute
	inactiveThreshold = 5 * time.Minute
	maxCursors        = 16
)

// Source reads projections' events from one JetStream stream, whose
// messages are in Layout. It is safe for concurrent use: a runner reads
// every projection through one Source.
//
// Each Read goes on from where a previous one stopped with the same
// consumer, when there is one for the topics at that position: a cursor.
// A read from elsewhere (a runner that rolled a batch back, a new
// projection) starts a consumer there. Consumers are ephemeral, in
// memory, without acks; the server deletes one that is left inactive.
type Source struct {
	// Logger receives the retries of Read; default slog.Default(). Set
	// it before the source is used.
	Logger *slog.Logger

	js     jetstream.JetStream
	name   string
	layout Layout

	mu      sync.Mutex
	stream  jetstream.Stream
	cursors []*cursor
	// single is set once the server refused a consumer with several
	// filter subjects (nats-server before 2.10): the source then reads
	// such topics unfiltered.
	single bool
	// refused holds the filters the server refused as not a subset of
	// the stream's subjects, which a stream that only sources others
	// has none of (nats-server before 2.10): they are read unfiltered.
	refused map[string]bool
}

// filterNotSubset is the JetStream API error code of a consumer filter
// that is not a subset of the stream's subjects.
const filterNotSubset jetstream.ErrorCode = 10093

// NewSource returns a Source over the stream name, whose messages are in
// layout: Headers, GoesBus or GoesStore, or one of the application's.
func NewSource(js jetstream.JetStream, name string, layout Layout) *Source {
	return &Source{js: js, name: name, layout: layout}
}

// cursor is a consumer and where its reader stands.
type cursor struct {
	cons    jetstream.Consumer
	filters string // the filter subjects, joined, "" for none
	// pos is the position the next Read continues from: every event of
	// the topics at or below it has been returned.
	pos int64
	// delivered is the consumer sequence of the last message received,
	// and seq its stream sequence.
	delivered uint64
	seq       uint64
	used      time.Time
}

// Read returns the events of topics after position after, at most limit
// of them. See the package documentation for what it guarantees.
//
// Read waits out what NATS may recover from, such as a lost connection,
// a server restarting or a consumer the server deleted, trying again
// with a growing delay until ctx is done, so that a runner rides out an
// outage of NATS as it does one of PostgreSQL. It fails at once for a
// message it cannot decode (naming its sequence and subject), for a
// stream that does not exist, for a request the server refuses as bad
// (400), and for events out of order.
func (s *Source) Read(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	if after < 0 {
		return projection.Page{}, fmt.Errorf("jetstream source: read after %d: positions are not negative", after)
	}
	if limit <= 0 {
		return projection.Page{}, fmt.Errorf("jetstream source: read at most %d events: the limit must be positive", limit)
	}
	var delay time.Duration
	for {
		page, err := s.readOnce(ctx, after, topics, limit)
		var perm *permanentError
		var apiErr *jetstream.APIError
		if err == nil || ctx.Err() != nil || errors.As(err, &perm) || errors.Is(err, jetstream.ErrStreamNotFound) ||
			(errors.As(err, &apiErr) && apiErr.Code == 400) {
			return page, err
		}
		delay = min(max(2*delay, 100*time.Millisecond), 5*time.Second)
		s.logger().Warn("jetstream source: read failed; retrying", "stream", s.name, "after", after, "error", err, "retry_in", delay)
		if err := sleep(ctx, delay); err != nil {
			return projection.Page{}, err
		}
	}
}

// permanentError is an error that reading again would meet again.
type permanentError struct{ error }

func (e *permanentError) Unwrap() error { return e.error }

// readOnce is one attempt of Read.
func (s *Source) readOnce(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	str, err := s.streamHandle(ctx)
	if err != nil {
		return projection.Page{}, err
	}
	// The head is read before the fetch: whatever the stream held then,
	// a fetch that finds nothing pending has had it all.
	info, err := str.Info(ctx)
	if err != nil {
		return projection.Page{}, fmt.Errorf("jetstream source: stream %s: %w", s.name, err)
	}
	head := int64(info.State.LastSeq)
	c, err := s.take(ctx, str, after, topics, true)
	if err != nil {
		return projection.Page{}, err
	}
	page, keep, err := s.read(ctx, c, head, topics, limit)
	s.give(ctx, c, keep && err == nil)
	return page, err
}

// maxFetches bounds the fetches of one Read that finds messages of other
// topics only, so that it returns while young.
const maxFetches = 8

// read fetches messages with c until it has limit events of topics or
// the consumer has nothing more now, and returns the page they make and
// whether c may serve the next Read. A fetch asks for no more messages
// than the page has room for, so that none is fetched and then left out.
func (s *Source) read(ctx context.Context, c *cursor, head int64, topics []string, limit int) (projection.Page, bool, error) {
	page := projection.Page{Through: c.pos}
	var pending uint64
	intact := true
	for range maxFetches {
		f, err := s.fetch(c, topics, limit-len(page.Events))
		if err != nil {
			return projection.Page{}, false, err
		}
		page.Events = append(page.Events, f.events...)
		if f.received > 0 {
			page.Through, pending = int64(c.seq), f.pending
		}
		if !f.intact {
			// Through stays at the last message received.
			intact = false
			break
		}
		caughtUp := f.received > 0 && f.pending == 0
		if f.received == 0 {
			if caughtUp, err = s.caughtUp(ctx, c); err != nil {
				return projection.Page{}, false, err
			}
			if !caughtUp {
				intact = false
				break
			}
		}
		if caughtUp {
			// Nothing of the topics was pending when the consumer last
			// sent, after the head was read: nothing lies between the
			// last message and the head.
			page.Through = max(page.Through, head)
			break
		}
		if len(page.Events) >= limit {
			break
		}
	}
	c.pos = page.Through
	page.End = max(head, page.Through, int64(c.seq+pending))
	return page, intact, nil
}

// fetched is what one fetch received.
type fetched struct {
	events   []projection.Stored
	received int
	// pending is the number of messages the consumer had still to send
	// when it sent the last one received.
	pending uint64
	// intact is unset when a message was lost on the way: the ones
	// received before it stand, the rest is read by a new consumer.
	intact bool
}

// fetch fetches up to limit messages with c, without waiting for more
// than are stored, and keeps the events of topics.
func (s *Source) fetch(c *cursor, topics []string, limit int) (fetched, error) {
	f := fetched{intact: true}
	batch, err := c.cons.FetchNoWait(limit)
	if err != nil {
		return f, fmt.Errorf("jetstream source: fetch from stream %s: %w", s.name, err)
	}
	for msg := range batch.Messages() {
		if !f.intact {
			continue // drain what a broken fetch still sends
		}
		md, err := msg.Metadata()
		if err != nil {
			return f, fmt.Errorf("jetstream source: stream %s: message metadata: %w", s.name, err)
		}
		if md.Sequence.Consumer != c.delivered+1 {
			// The consumer does not send again without acks.
			f.intact = false
			continue
		}
		seq := int64(md.Sequence.Stream)
		if seq <= c.pos || md.Sequence.Stream <= c.seq {
			return f, &permanentError{fmt.Errorf("jetstream source: stream %s sent sequence %d after the source had read through %d", s.name, seq, max(c.pos, int64(c.seq)))}
		}
		c.delivered, c.seq = md.Sequence.Consumer, md.Sequence.Stream
		f.received++
		f.pending = md.NumPending
		m := Message{Sequence: md.Sequence.Stream, Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Time: md.Timestamp}
		e, err := s.layout.Decode(m)
		if err != nil {
			return f, &permanentError{fmt.Errorf("jetstream source: stream %s, sequence %d, subject %s: %w", s.name, m.Sequence, m.Subject, err)}
		}
		e.Position = seq
		if slices.Contains(topics, e.Topic) {
			f.events = append(f.events, e)
		}
	}
	if err := batch.Error(); err != nil && f.intact {
		if f.received == 0 {
			return f, fmt.Errorf("jetstream source: fetch from stream %s: %w", s.name, err)
		}
		f.intact = false
	}
	return f, nil
}

// caughtUp reports whether c's consumer has nothing pending and has sent
// nothing that c did not receive, which an empty fetch alone does not
// tell from a fetch that timed out.
func (s *Source) caughtUp(ctx context.Context, c *cursor) (bool, error) {
	ci, err := c.cons.Info(ctx)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("jetstream source: stream %s: consumer info: %w", s.name, err)
	}
	return ci.NumPending == 0 && ci.Delivered.Consumer == c.delivered, nil
}

// streamHandle returns the stream, looked up once.
func (s *Source) streamHandle(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	str := s.stream
	s.mu.Unlock()
	if str != nil {
		return str, nil
	}
	str, err := s.js.Stream(ctx, s.name)
	if err != nil {
		return nil, fmt.Errorf("jetstream source: stream %s: %w", s.name, err)
	}
	s.mu.Lock()
	s.stream = str
	s.mu.Unlock()
	return str, nil
}

// filters returns the subjects the server can filter topics' messages
// by, sorted, or nil when some topic's subjects are unknown and every
// message must be read.
func (s *Source) filters(topics []string) []string {
	var subjects []string
	for _, t := range topics {
		subject := s.layout.FilterSubject(t)
		if subject == "" {
			return nil
		}
		subjects = append(subjects, subject)
	}
	slices.Sort(subjects)
	return slices.Compact(subjects)
}

// take returns a cursor standing at after for topics: with reuse one of
// the idle ones, removed from them, if there is one, else a new one. It
// deletes cursors idle for long.
func (s *Source) take(ctx context.Context, str jetstream.Stream, after int64, topics []string, reuse bool) (*cursor, error) {
	subjects := s.filters(topics)
	s.mu.Lock()
	if (len(subjects) > 1 && s.single) || s.refused[fmt.Sprint(subjects)] {
		subjects = nil
	}
	key := fmt.Sprint(subjects)
	var found *cursor
	var stale []*cursor
	kept := s.cursors[:0]
	for _, c := range s.cursors {
		switch {
		case reuse && found == nil && c.filters == key && c.pos == after:
			found = c
		case time.Since(c.used) > idleCursor:
			stale = append(stale, c)
		default:
			kept = append(kept, c)
		}
	}
	s.cursors = kept
	s.mu.Unlock()
	s.drop(ctx, str, stale...)
	if found != nil {
		return found, nil
	}
	cfg := jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       uint64(after) + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: inactiveThreshold,
		MemoryStorage:     true,
		Replicas:          1,
	}
	switch len(subjects) {
	case 0:
	case 1:
		cfg.FilterSubject = subjects[0]
	default:
		cfg.FilterSubjects = subjects
	}
	cons, err := str.CreateConsumer(ctx, cfg)
	var apiErr *jetstream.APIError
	multi := errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported)
	if multi || (len(subjects) > 0 && errors.As(err, &apiErr) && apiErr.ErrorCode == filterNotSubset) {
		// Read every subject, and drop.
		s.mu.Lock()
		if multi {
			s.single = true
		} else {
			if s.refused == nil {
				s.refused = map[string]bool{}
			}
			s.refused[key] = true
		}
		s.mu.Unlock()
		cfg.FilterSubject, cfg.FilterSubjects, key = "", nil, fmt.Sprint([]string(nil))
		cons, err = str.CreateConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream source: stream %s: create a consumer from sequence %d: %w", s.name, after+1, err)
	}
	return &cursor{cons: cons, filters: key, pos: after}, nil
}

// give returns c to the idle cursors when keep is set, and deletes its
// consumer otherwise, or when there are too many cursors.
func (s *Source) give(ctx context.Context, c *cursor, keep bool) {
	str, _ := s.streamHandle(ctx)
	if !keep {
		s.drop(ctx, str, c)
		return
	}
	c.used = time.Now()
	s.mu.Lock()
	s.cursors = append(s.cursors, c)
	var evicted []*cursor
	if len(s.cursors) > maxCursors {
		// The least recently used go first.
		slices.SortFunc(s.cursors, func(a, b *cursor) int { return b.used.Compare(a.used) })
		evicted = slices.Clone(s.cursors[maxCursors:])
		s.cursors = s.cursors[:maxCursors]
	}
	s.mu.Unlock()
	s.drop(ctx, str, evicted...)
}

// drop deletes the cursors' consumers, in the background: the server
// deletes them anyway once they are inactive.
func (s *Source) drop(ctx context.Context, str jetstream.Stream, cs ...*cursor) {
	if str == nil || len(cs) == 0 {
		return
	}
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		if ci := c.cons.CachedInfo(); ci != nil {
			names = append(names, ci.Name)
		}
	}
	go func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, name := range names {
			_ = str.DeleteConsumer(cleanup, name)
		}
	}()
}

// Close deletes the source's consumers. A Source that is not closed
// leaves them to the server, which deletes them once inactive.
func (s *Source) Close(ctx context.Context) {
	s.mu.Lock()
	cs, str := s.cursors, s.stream
	s.cursors = nil
	s.mu.Unlock()
	if str == nil {
		return
	}
	for _, c := range cs {
		if ci := c.cons.CachedInfo(); ci != nil {
			_ = str.DeleteConsumer(ctx, ci.Name)
		}
	}
}

// Backlog reports the stream's last sequence as Head and, from a consumer
// filtered as Read's, how many messages after after are pending and when
// the first of them was stored. Where the layout's subjects do not tell
// the topics apart (Layout.FilterSubject), Events counts every message
// under the subjects, of any topic, and Oldest is the first of those. A
// stream holds no open transactions: HeldBack is always nil.
func (s *Source) Backlog(ctx context.Context, after int64, topics []string) (projection.Backlog, error) {
	str, err := s.streamHandle(ctx)
	if err != nil {
		return projection.Backlog{}, err
	}
	info, err := str.Info(ctx)
	if err != nil {
		return projection.Backlog{}, fmt.Errorf("jetstream source: stream %s: %w", s.name, err)
	}
	b := projection.Backlog{Head: int64(info.State.LastSeq)}
	if b.Head <= after {
		return b, nil
	}
	// A consumer of its own: the message fetched here would be missing
	// from a cursor's.
	c, err := s.take(ctx, str, after, topics, false)
	if err != nil {
		return projection.Backlog{}, err
	}
	defer s.drop(ctx, str, c)
	ci, err := c.cons.Info(ctx)
	if err != nil {
		return projection.Backlog{}, fmt.Errorf("jetstream source: stream %s: consumer info: %w", s.name, err)
	}
	b.Events = int64(ci.NumPending)
	if b.Events == 0 {
		return b, nil
	}
	batch, err := c.cons.FetchNoWait(1)
	if err != nil {
		return projection.Backlog{}, fmt.Errorf("jetstream source: fetch from stream %s: %w", s.name, err)
	}
	for msg := range batch.Messages() {
		if md, err := msg.Metadata(); err == nil {
			b.Oldest = md.Timestamp
		}
	}
	return b, nil
}

// logger returns Logger, or slog.Default() when it is not set.
func (s *Source) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
