package main

import (
	"errors"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// Exit codes of the management commands.
const (
	exitError      = 1
	exitUsage      = 2
	exitNotFound   = 3
	exitWrongState = 4
	exitUnfinished = 5
)

// usageError is a mistake in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// unsuccessfulError reports an instance that ended other than Completed.
type unsuccessfulError struct{ error }

func (e unsuccessfulError) Unwrap() error { return e.error }

// exitCode classifies an error for scripts.
func exitCode(err error) int {
	var ue usageError
	var un unsuccessfulError
	switch {
	case errors.As(err, &ue), errors.Is(err, client.ErrInvalidInput), errors.Is(err, protocol.ErrInvalidName),
		errors.Is(err, client.ErrUnknownOrchestrator), errors.Is(err, protocol.ErrPayloadTooLarge),
		errors.Is(err, client.ErrBadSchedule):
		return exitUsage
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrScheduleNotFound):
		return exitNotFound
	case errors.Is(err, client.ErrFinished), errors.Is(err, client.ErrInstanceExists),
		errors.Is(err, client.ErrNotFailed), errors.Is(err, client.ErrNotFinished):
		return exitWrongState
	case errors.As(err, &un):
		return exitUnfinished
	}
	return exitError
}
