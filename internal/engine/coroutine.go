package engine

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// coroutine runs an orchestrator function on its own goroutine, but only
// ever one side at a time: the executor hands control over with resume and
// waits on yield until the code blocks or returns. Because of that hand-off
// the two goroutines never touch the Runtime concurrently.
type coroutine struct {
	resume   chan bool // true: go on; false: unwind and exit
	yield    chan struct{}
	finished bool
	stopping bool        // stop is unwinding the code
	blocked  func() bool // the condition the code waits for; nil when running
}

// exitSignal unwinds code that waits while the coroutine is being stopped
// (from a deferred function, say).
type exitSignal struct{}

// panicFailure carries a panic out of the orchestrator goroutine.
type panicFailure struct {
	value any
	stack string
}

func (p *panicFailure) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// startCoroutine starts fn on a new goroutine, parked until the first resume.
// done is called on that goroutine when fn returns, panics or calls
// runtime.Goexit (but not when the coroutine is discarded with stop).
func startCoroutine(fn func(), done func(p *panicFailure)) *coroutine {
	co := &coroutine{resume: make(chan bool), yield: make(chan struct{})}
	go func() {
		returned := false
		defer func() {
			r := recover()
			co.finished = true
			if co.stopping {
				co.yield <- struct{}{}
				return
			}
			switch {
			case r != nil:
				done(&panicFailure{value: r, stack: string(debug.Stack())})
			case !returned:
				done(&panicFailure{value: "orchestrator called runtime.Goexit", stack: string(debug.Stack())})
			default:
				done(nil)
			}
			co.yield <- struct{}{}
		}()
		if !<-co.resume {
			runtime.Goexit()
		}
		fn()
		returned = true
	}()
	return co
}

// run hands control to the code until it blocks or returns.
func (co *coroutine) run() {
	if co.finished {
		return
	}
	co.blocked = nil
	co.resume <- true
	<-co.yield
}

// runIfReady resumes the code if what it waits for has happened.
func (co *coroutine) runIfReady() {
	if co.finished || co.blocked == nil || !co.blocked() {
		return
	}
	co.run()
}

// wait is called on the orchestrator goroutine: it parks the code until
// ready() holds.
func (co *coroutine) wait(ready func() bool) {
	if co.stopping {
		panic(exitSignal{}) // a deferred function waits while being unwound
	}
	for !ready() {
		co.blocked = ready
		co.yield <- struct{}{}
		if !<-co.resume {
			// runtime.Goexit, unlike a panic, cannot be recovered by the
			// orchestrator's own code, so the unwinding always completes.
			runtime.Goexit()
		}
	}
}

// stop unwinds a parked goroutine so that it does not leak. It must be
// called from the executor side.
func (co *coroutine) stop() {
	if co.finished {
		return
	}
	co.stopping = true
	co.resume <- false
	<-co.yield
}
