package workflow_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func lookupOf[In, Out any](t testing.TB, name string, fn func(*workflow.Context, In) (Out, error)) engine.Lookup {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, name, fn); err != nil {
		t.Fatal(err)
	}
	return reg.Lookup
}

// testPayloadCap is the hub's payload cap in these tests: protocol.MaxPayload
// is too large to exceed quickly.
const testPayloadCap = 1 << 10

func capPayloads(rt *engine.Runtime) { rt.SetMaxPayload(testPayloadCap) }

func echo(_ *workflow.Context, s string) (string, error) { return s, nil }

func TestRegister(t *testing.T) {
	reg := workflow.NewRegistry()
	for _, name := range []string{"Zeta", "Alpha", "mid-1"} {
		if err := workflow.Register(reg, name, echo); err != nil {
			t.Fatalf("Register(%q) = %v", name, err)
		}
	}
	if got, want := reg.Names(), []string{"Alpha", "Zeta", "mid-1"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if err := workflow.Register(reg, "Alpha", echo); !errors.Is(err, workflow.ErrDuplicate) {
		t.Errorf("registering Alpha again = %v, want ErrDuplicate", err)
	}
	for _, bad := range []string{"", "a.b", "a b", "a*", "a>", "ünicode", strings.Repeat("a", protocol.MaxNameLength+1)} {
		if err := workflow.Register(reg, bad, echo); !errors.Is(err, protocol.ErrInvalidName) {
			t.Errorf("Register(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	if got := len(reg.Names()); got != 3 {
		t.Errorf("%d names after the failed registrations, want 3", got)
	}
	if _, ok := reg.Lookup("Nope"); ok {
		t.Error("Lookup of an unregistered name succeeded")
	}
	if _, ok := reg.Lookup("Alpha"); !ok {
		t.Error("Lookup(Alpha) failed")
	}
}

func TestRegisterDecodesInputAndEncodesOutput(t *testing.T) {
	type order struct {
		ID    string  `json:"id"`
		Total float64 `json:"total"`
	}
	describeOrder := func(_ *workflow.Context, o *order) (string, error) {
		if o == nil {
			return "no order", nil
		}
		return o.ID, nil
	}
	tests := []struct {
		name        string
		input       []byte
		wantOutput  string
		wantFailure string
	}{
		{name: "JSON object", input: []byte(`{"id":"A-1","total":9.5}`), wantOutput: `"A-1"`},
		{name: "no input", input: nil, wantOutput: `"no order"`},
		{name: "null input", input: []byte(`null`), wantOutput: `"no order"`},
		{name: "malformed input", input: []byte(`{"id":`), wantFailure: "decode input"},
		{name: "input of the wrong type", input: []byte(`["A-1"]`), wantFailure: "decode input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := engine.New("order-42", lookupOf(t, "Describe", describeOrder))
			t.Cleanup(rt.Close)
			if _, err := rt.Step(t0, []protocol.Event{{Type: protocol.EventExecutionStarted, Name: "Describe", Input: tt.input}}); err != nil {
				t.Fatal(err)
			}
			if tt.wantFailure == "" {
				if rt.Status() != protocol.StatusCompleted || string(rt.Output()) != tt.wantOutput {
					t.Fatalf("status %s output %s (failure %v), want Completed with %s", rt.Status(), rt.Output(), rt.Failure(), tt.wantOutput)
				}
				return
			}
			if f := rt.Failure(); rt.Status() != protocol.StatusFailed || f == nil || !strings.Contains(f.Message, tt.wantFailure) {
				t.Fatalf("status %s failure %+v, want Failed saying %q", rt.Status(), f, tt.wantFailure)
			}
		})
	}

	t.Run("unencodable output", func(t *testing.T) {
		nan := func(*workflow.Context, any) (float64, error) { return math.NaN(), nil }
		in, _ := start(t, lookupOf(t, "NaN", nan), "NaN", nil)
		if f := in.rt.Failure(); in.rt.Status() != protocol.StatusFailed || f == nil || !strings.Contains(f.Message, "encode output") {
			t.Fatalf("status %s failure %+v, want Failed saying encode output", in.rt.Status(), f)
		}
	})
}

func TestContextDescribesTheInstance(t *testing.T) {
	type seen struct {
		ID, Name string
		Now      time.Time
	}
	whoAmI := func(ctx *workflow.Context, _ any) (seen, error) {
		return seen{ctx.InstanceID(), ctx.Name(), ctx.Now()}, nil
	}
	in, _ := start(t, lookupOf(t, "WhoAmI", whoAmI), "WhoAmI", nil)
	if got, want := string(in.rt.Output()), string(jsonOf(seen{"order-42", "WhoAmI", t0})); got != want {
		t.Fatalf("output = %s, want %s", got, want)
	}
}

// TestRejectedCallsScheduleNothing: a call the SDK refuses fails its task at
// once and leaves no trace in history.
func TestRejectedCallsScheduleNothing(t *testing.T) {
	tests := []struct {
		name    string
		call    func(ctx *workflow.Context) error
		wantErr error  // matched with errors.Is, if set
		wantMsg string // contained in the error, if set
	}{
		{
			name: "activity name with a dot",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.CallActivity[string](ctx, "say.hello", nil).Await()
				return err
			},
			wantErr: protocol.ErrInvalidName,
		},
		{
			name: "empty activity name",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.CallActivity[string](ctx, "", nil).Await()
				return err
			},
			wantErr: protocol.ErrInvalidName,
		},
		{
			name: "input that JSON cannot encode",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.CallActivity[string](ctx, "A", make(chan int)).Await()
				return err
			},
			wantMsg: "activity A: input",
		},
		{
			name: "input over the payload cap",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.CallActivity[string](ctx, "A", strings.Repeat("x", testPayloadCap)).Await()
				return err
			},
			wantErr: protocol.ErrPayloadTooLarge,
		},
		{
			name: "event name with a wildcard",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.WaitForExternalEvent[string](ctx, "approve.*").Await()
				return err
			},
			wantErr: protocol.ErrInvalidName,
		},
		{
			name: "event name with a space",
			call: func(ctx *workflow.Context) error {
				_, err := workflow.WaitForExternalEvent[string](ctx, "approve now").Await()
				return err
			},
			wantErr: protocol.ErrInvalidName,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			try := func(ctx *workflow.Context, _ any) (string, error) {
				got = tt.call(ctx)
				// The next action gets task ID 0: the rejected call took none.
				return workflow.CallActivity[string](ctx, "Next", nil).Await()
			}
			_, rec := start(t, lookupOf(t, "Try", try), "Try", nil, capPayloads)
			if got == nil {
				t.Fatal("the call succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(got, tt.wantErr) {
				t.Errorf("error = %v, want %v", got, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(got.Error(), tt.wantMsg) {
				t.Errorf("error = %v, want it to say %q", got, tt.wantMsg)
			}
			want := "ExecutionStarted Try()\nTaskScheduled #0 Next(null)"
			if d := describe(rec); d != want {
				t.Errorf("history:\n%s\nwant:\n%s", d, want)
			}
		})
	}
}

func TestSetCustomStatus(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		want    string // the custom status after the call
		wantErr error
	}{
		{name: "JSON value", value: map[string]int{"done": 3}, want: `{"done":3}`},
		{name: "unencodable value keeps the old status", value: func() {}, want: `"before"`},
		{name: "value over the payload cap keeps the old status", value: strings.Repeat("x", testPayloadCap), want: `"before"`, wantErr: protocol.ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var setErr error
			set := func(ctx *workflow.Context, _ any) (string, error) {
				if err := ctx.SetCustomStatus("before"); err != nil {
					return "", err
				}
				setErr = ctx.SetCustomStatus(tt.value)
				return workflow.CallActivity[string](ctx, "Wait", nil).Await()
			}
			in, _ := start(t, lookupOf(t, "Set", set), "Set", nil, capPayloads)
			if got := string(in.rt.CustomStatus()); got != tt.want {
				t.Errorf("custom status = %s, want %s", got, tt.want)
			}
			switch {
			case tt.want == `"before"` && setErr == nil:
				t.Error("SetCustomStatus succeeded, want an error")
			case tt.wantErr != nil && !errors.Is(setErr, tt.wantErr):
				t.Errorf("SetCustomStatus = %v, want %v", setErr, tt.wantErr)
			case tt.want != `"before"` && setErr != nil:
				t.Errorf("SetCustomStatus = %v", setErr)
			}
		})
	}
}

func TestAwaitDecodesTheResult(t *testing.T) {
	tests := []struct {
		name    string
		result  []byte
		want    string
		wantErr string
	}{
		{name: "JSON number", result: []byte(`42`), want: `{"N":42,"Err":""}`},
		{name: "no result gives the zero value", result: nil, want: `{"N":0,"Err":""}`},
		{name: "result of the wrong type", result: []byte(`"forty-two"`), wantErr: "decode result into int"},
	}
	type outcome struct {
		N   int
		Err string
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count := func(ctx *workflow.Context, _ any) (outcome, error) {
				n, err := workflow.CallActivity[int](ctx, "Count", nil).Await()
				if err != nil {
					return outcome{Err: err.Error()}, nil
				}
				return outcome{N: n}, nil
			}
			in, _ := start(t, lookupOf(t, "Count", count), "Count", nil)
			in.step(protocol.Event{Type: protocol.EventTaskCompleted, TaskID: 0, Result: tt.result})
			var got outcome
			if err := jsonUnmarshal(in.rt.Output(), &got); err != nil {
				t.Fatalf("output %s: %v", in.rt.Output(), err)
			}
			if tt.wantErr != "" {
				if !strings.Contains(got.Err, tt.wantErr) {
					t.Fatalf("Await error = %q, want it to say %q", got.Err, tt.wantErr)
				}
				return
			}
			if string(in.rt.Output()) != tt.want {
				t.Fatalf("output = %s, want %s", in.rt.Output(), tt.want)
			}
		})
	}
}

func TestAnyOfNothingReturnsMinusOne(t *testing.T) {
	none := func(ctx *workflow.Context, _ any) (int, error) { return workflow.Any(ctx), nil }
	in, _ := start(t, lookupOf(t, "None", none), "None", nil)
	if got := string(in.rt.Output()); got != "-1" {
		t.Fatalf("Any() = %s, want -1", got)
	}
}

func TestAllOfNothingReturnsAtOnce(t *testing.T) {
	none := func(ctx *workflow.Context, _ any) (bool, error) { return workflow.All(ctx) == nil, nil }
	in, _ := start(t, lookupOf(t, "None", none), "None", nil)
	if got := string(in.rt.Output()); got != "true" {
		t.Fatalf("All() == nil is %s, want true", got)
	}
}

func TestActivityErrorMessage(t *testing.T) {
	err := &workflow.ActivityError{Name: "Charge", Type: "*errors.errorString", Message: "card declined", Stack: "ignored"}
	if got, want := err.Error(), "activity Charge failed: card declined"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestTimerDoneAndAwait(t *testing.T) {
	type outcome struct {
		DoneBefore, DoneAfter bool
		Err                   string
	}
	sleep := func(ctx *workflow.Context, _ any) (outcome, error) {
		timer := workflow.CreateTimer(ctx, time.Minute)
		o := outcome{DoneBefore: timer.Done()}
		if err := timer.Await(); err != nil {
			o.Err = err.Error()
		}
		o.DoneAfter = timer.Done()
		return o, nil
	}
	in, _ := start(t, lookupOf(t, "Sleep", sleep), "Sleep", nil)
	in.step(protocol.Event{Type: protocol.EventTimerFired, TaskID: 0})
	if got, want := string(in.rt.Output()), `{"DoneBefore":false,"DoneAfter":true,"Err":""}`; got != want {
		t.Fatalf("output = %s, want %s", got, want)
	}
}

func TestLoggerIsSilentWhileReplaying(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	reg := workflow.NewRegistry() // takes the default logger
	slog.SetDefault(prev)

	chatty := func(ctx *workflow.Context, _ any) (string, error) {
		ctx.Logger().Info("starting")
		if _, err := workflow.CallActivity[string](ctx, "A", nil).Await(); err != nil {
			return "", err
		}
		ctx.Logger().Info("A done")
		return workflow.CallActivity[string](ctx, "B", nil).Await()
	}
	if err := workflow.Register(reg, "Chatty", chatty); err != nil {
		t.Fatal(err)
	}
	in, _ := start(t, reg.Lookup, "Chatty", nil)
	in.step(completed(0, "a"))
	lines := func() int { return strings.Count(buf.String(), "\n") }
	if lines() != 2 || !strings.Contains(buf.String(), "instance=order-42") {
		t.Fatalf("live run logged:\n%s\nwant two lines naming the instance", buf.String())
	}

	replayed := engine.New("order-42", reg.Lookup)
	t.Cleanup(replayed.Close)
	if err := replayed.Replay(in.records); err != nil {
		t.Fatal(err)
	}
	if lines() != 2 {
		t.Fatalf("replay logged again:\n%s", buf.String())
	}
}
