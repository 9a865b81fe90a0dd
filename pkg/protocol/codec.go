package protocol

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// ErrDecode is wrapped by every decoding error.
var ErrDecode = errors.New("protocol: cannot decode message")

// Marshal encodes a wire value as msgpack, stamping the format version.
func Marshal(v versioned) ([]byte, error) {
	v.setVersion(FormatVersion)
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %T: %w", v, err)
	}
	return b, nil
}

// Unmarshal decodes a wire value and checks its format version and content.
// It returns an error wrapping ErrDecode for any input it cannot accept and
// never panics.
func Unmarshal(data []byte, v versioned) (err error) {
	defer func() {
		// The decoder is not ours; a panic on hostile input must not take a
		// worker down.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %T: %v", ErrDecode, v, r)
		}
	}()
	if err := checkLengths(data); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrDecode, v, err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrDecode, v, err)
	}
	if ver := v.version(); ver < 1 || ver > FormatVersion {
		return fmt.Errorf("%w: %T: unsupported format version %d", ErrDecode, v, ver)
	}
	if err := v.check(); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrDecode, v, err)
	}
	return nil
}

// versioned is implemented by every top-level wire type.
type versioned interface {
	version() int
	setVersion(int)
	check() error
}

func (r *HistoryRecord) version() int     { return r.V }
func (r *HistoryRecord) setVersion(v int) { r.V = v }
func (r *HistoryRecord) check() error {
	for i := range r.Events {
		if err := r.Events[i].check(); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	return nil
}

// check validates an event's type and those of the events it carries.
func (e *Event) check() error {
	if !e.Type.Valid() {
		return fmt.Errorf("unknown event type %d", e.Type)
	}
	for i := range e.Carried {
		if err := e.Carried[i].check(); err != nil {
			return fmt.Errorf("carried event %d: %w", i, err)
		}
	}
	return nil
}

func (w *WorkItem) version() int     { return w.V }
func (w *WorkItem) setVersion(v int) { w.V = v }
func (w *WorkItem) check() error {
	if err := w.Event.check(); err != nil {
		return err
	}
	if w.ExecutionID != "" {
		if err := ValidateInstanceID(w.ExecutionID); err != nil {
			return fmt.Errorf("execution ID: %w", err)
		}
	}
	if w.Event.ExecutionID != "" {
		if err := ValidateInstanceID(w.Event.ExecutionID); err != nil {
			return fmt.Errorf("execution ID: %w", err)
		}
	}
	return ValidateInstanceID(w.InstanceID)
}

func (t *ActivityTask) version() int     { return t.V }
func (t *ActivityTask) setVersion(v int) { t.V = v }
func (t *ActivityTask) check() error {
	if err := ValidateInstanceID(t.InstanceID); err != nil {
		return err
	}
	return ValidateName(t.Name)
}

func (s *InstanceState) version() int     { return s.V }
func (s *InstanceState) setVersion(v int) { s.V = v }
func (s *InstanceState) check() error     { return ValidateInstanceID(s.InstanceID) }

func (e *IndexEntry) version() int     { return e.V }
func (e *IndexEntry) setVersion(v int) { e.V = v }
func (e *IndexEntry) check() error     { return ValidateInstanceID(e.InstanceID) }
