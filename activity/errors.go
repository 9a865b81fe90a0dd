package activity

// NonRetryableError marks an activity failure that retry policies must not
// repeat. The orchestrator sees it as a *workflow.ActivityError whose Type is
// NonRetryableErrorType.
type NonRetryableError struct{ Err error }

// NonRetryableErrorType is the failure type of a NonRetryableError.
const NonRetryableErrorType = "NonRetryable"

// NonRetryable wraps err so that retry policies give up at once.
func NonRetryable(err error) error { return &NonRetryableError{Err: err} }

// Error implements error.
func (e *NonRetryableError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *NonRetryableError) Unwrap() error { return e.Err }
