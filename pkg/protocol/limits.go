package protocol

import (
	"errors"
	"fmt"
)

// MaxPayload is the largest JSON payload (input, output, event data,
// activity result, custom status) that Endure accepts at all. A task hub
// may set a lower cap; payloads over 256 KiB are kept out of line.
const MaxPayload = 64 << 20

// ErrPayloadTooLarge is wrapped by errors about payloads over MaxPayload.
var ErrPayloadTooLarge = errors.New("payload too large")

// CheckPayload returns an error wrapping ErrPayloadTooLarge if p is over
// MaxPayload; what names the payload in the message.
func CheckPayload(what string, p []byte) error { return CheckPayloadLimit(what, p, MaxPayload) }

// CheckPayloadLimit is CheckPayload with a lower limit (a task hub's cap).
func CheckPayloadLimit(what string, p []byte, limit int) error {
	if limit <= 0 || limit > MaxPayload {
		limit = MaxPayload
	}
	if len(p) > limit {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrPayloadTooLarge, what, len(p), limit)
	}
	return nil
}
