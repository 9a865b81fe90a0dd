package protocol

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidName is wrapped by every error about an instance ID, function
// name, event name or hub name that Endure cannot accept.
var ErrInvalidName = errors.New("invalid name")

// MaxNameLength bounds instance IDs and names.
const MaxNameLength = 256

// ValidateInstanceID checks an instance ID. IDs become NATS subject tokens
// and KV keys, so they are limited to ASCII letters, digits, '-', '_' and '='.
func ValidateInstanceID(id string) error {
	return validateToken("instance ID", id)
}

// ValidateName checks an orchestrator or activity name, which becomes a NATS
// subject token: ASCII letters, digits, '-', '_' and '='.
func ValidateName(name string) error {
	return validateToken("function name", name)
}

// ValidateHub checks a task hub name, which becomes part of stream and
// bucket names: ASCII letters, digits, '-' and '_'.
func ValidateHub(hub string) error {
	if err := validateToken("hub name", hub); err != nil {
		return err
	}
	for _, r := range hub {
		if r == '=' {
			return fmt.Errorf("%w: hub name %q: '=' is not allowed", ErrInvalidName, hub)
		}
	}
	return nil
}

// ValidateEventName checks an external event name: printable, no white
// space, none of '.', '*', '>', and not longer than MaxNameLength bytes.
func ValidateEventName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: event name is empty", ErrInvalidName)
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("%w: event name is longer than %d bytes", ErrInvalidName, MaxNameLength)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: event name is not valid UTF-8", ErrInvalidName)
	}
	for _, r := range name {
		if r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: event name %q: character %q is not allowed", ErrInvalidName, name, r)
		}
	}
	return nil
}

func validateToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidName, what)
	}
	if len(s) > MaxNameLength {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidName, what, MaxNameLength)
	}
	for _, r := range s {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '=')
		if !ok {
			return fmt.Errorf("%w: %s %q: character %q is not allowed (use letters, digits, '-', '_' or '=')", ErrInvalidName, what, s, r)
		}
	}
	return nil
}
