package activity_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
)

type order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
}

type receipt struct {
	OrderID string `json:"orderId"`
	Total   int    `json:"total"`
}

var errOutOfStock = errors.New("out of stock")

func placeOrder(_ context.Context, o order) (receipt, error) {
	if o.Items < 0 {
		return receipt{}, errOutOfStock
	}
	return receipt{OrderID: o.ID, Total: 10 * o.Items}, nil
}

func lookup(t *testing.T, name string, register func(*activity.Registry) error) activity.Func {
	t.Helper()
	reg := activity.NewRegistry()
	if err := register(reg); err != nil {
		t.Fatal(err)
	}
	fn, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) found nothing", name)
	}
	return fn
}

func TestRegisterDecodesInputAndEncodesOutput(t *testing.T) {
	fn := lookup(t, "PlaceOrder", func(r *activity.Registry) error { return activity.Register(r, "PlaceOrder", placeOrder) })
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr string // contained in the error
		is      error  // matched with errors.Is
	}{
		{name: "JSON object", input: `{"id":"A-1","items":3}`, want: `{"orderId":"A-1","total":30}`},
		{name: "unknown fields are ignored", input: `{"id":"A-1","items":1,"coupon":"X"}`, want: `{"orderId":"A-1","total":10}`},
		{name: "no input gives the zero value", input: "", want: `{"orderId":"","total":0}`},
		{name: "null input gives the zero value", input: "null", want: `{"orderId":"","total":0}`},
		{name: "malformed input", input: `{"id":`, wantErr: "activity PlaceOrder: decode input into activity_test.order"},
		{name: "input of the wrong type", input: `{"items":"three"}`, wantErr: "decode input"},
		{name: "the function's error is returned as is", input: `{"items":-1}`, is: errOutOfStock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var input []byte
			if tt.input != "" {
				input = []byte(tt.input)
			}
			out, err := fn(context.Background(), input)
			switch {
			case tt.is != nil:
				if err != tt.is {
					t.Fatalf("error = %v, want exactly %v", err, tt.is)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to say %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("error = %v", err)
			case string(out) != tt.want:
				t.Fatalf("output = %s, want %s", out, tt.want)
			}
			if err != nil && out != nil {
				t.Errorf("output %s returned with an error", out)
			}
		})
	}
}

func TestRegisterReportsOutputThatJSONCannotEncode(t *testing.T) {
	fn := lookup(t, "Measure", func(r *activity.Registry) error {
		return activity.Register(r, "Measure", func(_ context.Context, broken bool) (float64, error) {
			if broken {
				return math.NaN(), nil
			}
			return 1.5, nil
		})
	})
	if out, err := fn(context.Background(), []byte(`false`)); err != nil || string(out) != "1.5" {
		t.Fatalf("finite output = %s, %v; want 1.5", out, err)
	}
	_, err := fn(context.Background(), []byte(`true`))
	if err == nil || !strings.Contains(err.Error(), "activity Measure: encode output") {
		t.Fatalf("error = %v, want an encode output error", err)
	}
}

func TestActivityReceivesTheWorkersContext(t *testing.T) {
	type seen struct {
		info     activity.Info
		infoOK   bool
		canceled bool
	}
	var got seen
	fn := lookup(t, "Inspect", func(r *activity.Registry) error {
		return activity.Register(r, "Inspect", func(ctx context.Context, _ any) (bool, error) {
			got.info, got.infoOK = activity.GetInfo(ctx)
			got.canceled = ctx.Err() != nil
			return true, nil
		})
	})
	info := activity.Info{InstanceID: "order-42", Name: "Inspect", TaskID: 7, Attempt: 2}
	ctx, cancel := context.WithCancel(activity.WithInfo(context.Background(), info))
	cancel()
	if _, err := fn(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if !got.infoOK || got.info != info || !got.canceled {
		t.Fatalf("activity saw %+v, want info %+v in a cancelled context", got, info)
	}

	if _, ok := activity.GetInfo(context.Background()); ok {
		t.Error("GetInfo found an Info in a bare context")
	}
}

func TestRegistryNames(t *testing.T) {
	reg := activity.NewRegistry()
	for _, name := range []string{"Zeta", "Alpha", "b=64"} {
		if err := activity.Register(reg, name, placeOrder); err != nil {
			t.Fatalf("Register(%q) = %v", name, err)
		}
	}
	if err := activity.Register(reg, "Alpha", placeOrder); !errors.Is(err, activity.ErrDuplicate) {
		t.Errorf("registering Alpha again = %v, want ErrDuplicate", err)
	}
	for _, bad := range []string{"", "place.order", "place order", "place*", "place>", "bestellen-ü"} {
		if err := activity.Register(reg, bad, placeOrder); !errors.Is(err, protocol.ErrInvalidName) {
			t.Errorf("Register(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	if got, want := reg.Names(), []string{"Alpha", "Zeta", "b=64"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if _, ok := reg.Lookup("Missing"); ok {
		t.Error("Lookup of an unregistered name succeeded")
	}
}

func TestHeartbeatCallsTheWorkersBeat(t *testing.T) {
	beats := 0
	ctx := activity.WithHeartbeat(context.Background(), func() { beats++ })
	activity.Heartbeat(ctx)
	activity.Heartbeat(ctx)
	if beats != 2 {
		t.Fatalf("%d beats, want 2", beats)
	}
	activity.Heartbeat(context.Background()) // no worker beat: harmless
}

func TestNonRetryableKeepsTheError(t *testing.T) {
	err := activity.NonRetryable(errOutOfStock)
	var nr *activity.NonRetryableError
	if !errors.As(err, &nr) || !errors.Is(err, errOutOfStock) || err.Error() != errOutOfStock.Error() {
		t.Fatalf("NonRetryable(%v) = %v: want a *NonRetryableError that wraps it and keeps its text", errOutOfStock, err)
	}
}
