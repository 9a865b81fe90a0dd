// Package workflow is a stub of Endure's workflow SDK with the API the
// testdata uses; the analyzer only needs its import path and Context type.
package workflow

import "time"

type Context struct{}

func (c *Context) Now() time.Time     { return time.Time{} }
func (c *Context) NewGUID() string    { return "" }
func (c *Context) InstanceID() string { return "" }

type Registry struct{}

func NewRegistry() *Registry { return &Registry{} }

func Register[In, Out any](r *Registry, name string, fn func(ctx *Context, input In) (Out, error)) error {
	return nil
}

type Awaitable interface{ done() bool }

type Task[T any] struct{}

func (Task[T]) done() bool        { return true }
func (Task[T]) Await() (T, error) { var v T; return v, nil }

type Timer struct{}

func (Timer) done() bool   { return true }
func (Timer) Await() error { return nil }

func CallActivity[T any](ctx *Context, name string, input any) Task[T] { return Task[T]{} }
func CreateTimer(ctx *Context, d time.Duration) Timer                  { return Timer{} }
func Any(ctx *Context, tasks ...Awaitable) int                         { return 0 }
func All(ctx *Context, tasks ...Awaitable) error                       { return nil }
