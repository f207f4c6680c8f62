package command

import (
	"context"

	"github.com/google/uuid"
	"github.com/modernice/goes/command/finish"
)

// Context is the context of a command whose payload type is not known
// statically.
type Context = Ctx[any]

// Ctx is what a command handler receives: a context.Context and the command.
type Ctx[P any] interface {
	context.Context
	Of[P]

	AggregateID() uuid.UUID
	AggregateName() string
	Finish(context.Context, ...finish.Option) error
}

// ContextOption configures a context made by NewContext.
type ContextOption func(*ctxOptions)

type ctxOptions struct {
	whenDone func(context.Context, finish.Config) error
}

// WhenDone sets the function that Finish calls.
func WhenDone(fn func(context.Context, finish.Config) error) ContextOption {
	return func(o *ctxOptions) { o.whenDone = fn }
}

type cmdCtx[P any] struct {
	context.Context
	Of[P]
	opts ctxOptions
	done bool
}

// NewContext wraps cmd with base.
func NewContext[P any](base context.Context, cmd Of[P], opts ...ContextOption) Ctx[P] {
	c := &cmdCtx[P]{Context: base, Of: cmd}
	for _, o := range opts {
		o(&c.opts)
	}
	return c
}

func (c *cmdCtx[P]) AggregateID() uuid.UUID { return c.Aggregate().ID }
func (c *cmdCtx[P]) AggregateName() string  { return c.Aggregate().Name }

// Finish calls the WhenDone function once. (Upstream guards it with a mutex;
// this stand-in is not meant for concurrent use.)
func (c *cmdCtx[P]) Finish(ctx context.Context, opts ...finish.Option) error {
	if c.done {
		return nil
	}
	c.done = true
	if c.opts.whenDone == nil {
		return nil
	}
	return c.opts.whenDone(ctx, finish.Configure(opts...))
}

func (c *cmdCtx[P]) ctxOpts() []ContextOption {
	return []ContextOption{WhenDone(c.opts.whenDone)}
}

// TryCastContext changes the payload type of a context and reports whether it
// could.
func TryCastContext[To, From any](ctx Ctx[From]) (Ctx[To], bool) {
	cmd, ok := TryCast[To, From](ctx)
	if !ok {
		return nil, false
	}
	var opts []ContextOption
	if c, ok := ctx.(*cmdCtx[From]); ok {
		opts = c.ctxOpts()
	}
	return NewContext[To](ctx, cmd, opts...), true
}

// CastContext is TryCastContext that panics when the payload is not a To.
func CastContext[To, From any](ctx Ctx[From]) Ctx[To] {
	out, ok := TryCastContext[To, From](ctx)
	if !ok {
		Cast[To, From](ctx) // panics with the payload types
	}
	return out
}
