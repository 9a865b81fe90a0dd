package protocol

import (
	"errors"
	"fmt"
)

// MaxPayload is the largest JSON payload (input, output, event data,
// activity result, custom status) that Endure carries inline.
const MaxPayload = 256 << 10

// ErrPayloadTooLarge is wrapped by errors about payloads over MaxPayload.
var ErrPayloadTooLarge = errors.New("payload too large")

// CheckPayload returns an error wrapping ErrPayloadTooLarge if p is over
// MaxPayload; what names the payload in the message.
func CheckPayload(what string, p []byte) error {
	if len(p) > MaxPayload {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrPayloadTooLarge, what, len(p), MaxPayload)
	}
	return nil
}
