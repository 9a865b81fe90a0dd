package workflowtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// mockOf turns what OnActivity was given into an activity function. It
// panics on a function of the wrong shape or a result that does not encode:
// both are mistakes in the test, best reported where they are made.
func mockOf(name string, impl any) activity.Func {
	switch v := impl.(type) {
	case activity.Func:
		return v
	case error:
		return func(context.Context, []byte) ([]byte, error) { return nil, v }
	}
	fv := reflect.ValueOf(impl)
	if fv.Kind() != reflect.Func {
		result, err := json.Marshal(impl)
		if err != nil {
			panic(fmt.Sprintf("workflowtest: OnActivity(%q): the result %T does not encode as JSON: %v", name, impl, err))
		}
		return func(context.Context, []byte) ([]byte, error) { return result, nil }
	}
	ft := fv.Type()
	if raw := reflect.TypeFor[activity.Func](); ft.ConvertibleTo(raw) {
		return fv.Convert(raw).Interface().(activity.Func)
	}
	if ft.IsVariadic() || ft.NumIn() != 2 || ft.In(0) != contextType || ft.NumOut() != 2 || ft.Out(1) != errorType {
		panic(fmt.Sprintf("workflowtest: OnActivity(%q): %s is not an activity: want func(context.Context, In) (Out, error)", name, ft))
	}
	in := ft.In(1)
	return func(ctx context.Context, raw []byte) ([]byte, error) {
		arg := reflect.New(in)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, arg.Interface()); err != nil {
				return nil, fmt.Errorf("activity %s: decode input into %s: %w", name, in, err)
			}
		}
		out := fv.Call([]reflect.Value{reflect.ValueOf(ctx), arg.Elem()})
		if err, _ := out[1].Interface().(error); err != nil {
			return nil, err
		}
		b, err := json.Marshal(out[0].Interface())
		if err != nil {
			return nil, fmt.Errorf("activity %s: encode output: %w", name, err)
		}
		return b, nil
	}
}

// invoke runs an activity as an activity worker does, turning an error or
// a panic into a Failure of the same Type a worker would report.
func invoke(ctx context.Context, fn activity.Func, input []byte) (result []byte, failure *protocol.Failure) {
	defer func() {
		if r := recover(); r != nil {
			failure = &protocol.Failure{Type: "Panic", Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	out, err := fn(ctx, input)
	if err == nil {
		err = protocol.CheckPayload("activity result", out)
	}
	if err != nil {
		typ := fmt.Sprintf("%T", err)
		var nr *activity.NonRetryableError
		if errors.As(err, &nr) {
			typ = activity.NonRetryableErrorType
		}
		return nil, &protocol.Failure{Type: typ, Message: err.Error()}
	}
	return out, nil
}
