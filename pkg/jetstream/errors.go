package jetstream

import "errors"

var (
	// ErrConflict is returned by AppendHistory when another writer committed
	// to the instance first: reload and retry.
	ErrConflict = errors.New("history changed by another writer")
	// ErrInstanceNotFound is returned for an instance the hub does not know.
	ErrInstanceNotFound = errors.New("instance not found")
	// ErrInstanceExists is returned by CreateInstance when the ID is taken.
	ErrInstanceExists = errors.New("instance already exists")
	// ErrScheduleNotFound is returned for a recurring schedule the hub does
	// not have.
	ErrScheduleNotFound = errors.New("schedule not found")
)
