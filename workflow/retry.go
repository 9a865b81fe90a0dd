package workflow

import (
	"errors"

	"fmt"
	"github.com/endurehq/endure/activity"
	"math"
	"time"
)

// RetryPolicy says how often and how soon a failed activity or
// sub-orchestration is tried again, as Durable Functions' RetryOptions do.
// The waits between attempts are durable timers.
type RetryPolicy struct {
	// FirstRetryInterval is the wait before the second attempt (required).
	FirstRetryInterval time.Duration
	// BackoffCoefficient multiplies the wait after each attempt (default 1).
	BackoffCoefficient float64
	// MaxRetryInterval caps the wait between attempts (0: no cap).
	MaxRetryInterval time.Duration
	// MaxAttempts is the number of attempts in all, the first included
	// (required, at least 1).
	MaxAttempts int
	// RetryTimeout gives up once this long has passed since the first
	// attempt started (0: no limit).
	RetryTimeout time.Duration
	// Handle decides whether an error is worth another attempt (default:
	// every error except one an activity marked with activity.NonRetryable).
	Handle func(error) bool
}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 1 {
		return fmt.Errorf("retry policy: MaxAttempts must be at least 1, got %d", p.MaxAttempts)
	}
	if p.FirstRetryInterval <= 0 {
		return fmt.Errorf("retry policy: FirstRetryInterval must be positive, got %v", p.FirstRetryInterval)
	}
	if p.BackoffCoefficient != 0 && p.BackoffCoefficient < 1 {
		return fmt.Errorf("retry policy: BackoffCoefficient must be at least 1, got %v", p.BackoffCoefficient)
	}
	return nil
}

// delay returns the wait after the given (1-based) failed attempt.
func (p RetryPolicy) delay(attempt int) time.Duration {
	coef := p.BackoffCoefficient
	if coef == 0 {
		coef = 1
	}
	d := float64(p.FirstRetryInterval) * math.Pow(coef, float64(attempt-1))
	if p.MaxRetryInterval > 0 && d > float64(p.MaxRetryInterval) {
		d = float64(p.MaxRetryInterval)
	}
	if d > float64(math.MaxInt64) {
		d = float64(math.MaxInt64)
	}
	return time.Duration(d)
}

func (p RetryPolicy) retryable(err error) bool {
	var ae *ActivityError
	if errors.As(err, &ae) && ae.Type == activity.NonRetryableErrorType {
		return false
	}
	if p.Handle != nil {
		return p.Handle(err)
	}
	return true
}

// withRetry runs attempt until it succeeds, the policy gives up, or an
// error is not retryable; between attempts it waits on a durable timer.
func withRetry[T any](ctx *Context, p RetryPolicy, attempt func() Task[T]) (T, error) {
	var zero T
	if err := p.validate(); err != nil {
		return zero, err
	}
	start := ctx.Now()
	for n := 1; ; n++ {
		v, err := attempt().Await()
		if err == nil || n >= p.MaxAttempts || !p.retryable(err) {
			return v, err
		}
		wait := p.delay(n)
		if p.RetryTimeout > 0 && ctx.Now().Add(wait).Sub(start) > p.RetryTimeout {
			return v, err
		}
		if terr := CreateTimer(ctx, wait).Await(); terr != nil {
			return v, err
		}
	}
}

// CallActivityWithRetry calls an activity like CallActivity and, when it
// fails, calls it again as policy says. It blocks until the last attempt is
// done.
func CallActivityWithRetry[T any](ctx *Context, name string, policy RetryPolicy, input any, opts ...CallOption) (T, error) {
	return withRetry(ctx, policy, func() Task[T] { return CallActivity[T](ctx, name, input, opts...) })
}
