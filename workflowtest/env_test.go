package workflowtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/endurehq/endure/activity"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
	"github.com/endurehq/endure/workflows"
	"github.com/endurehq/endure/workflowtest"
)

// samples returns the sample orchestrators and their real activities.
func samples(t testing.TB) (*workflow.Registry, *activity.Registry) {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflows.RegisterOrchestrators(reg); err != nil {
		t.Fatal(err)
	}
	acts := activity.NewRegistry()
	if err := workflows.RegisterActivities(acts); err != nil {
		t.Fatal(err)
	}
	return reg, acts
}

// register registers fn under name in a new registry.
func register[In, Out any](t testing.TB, name string, fn func(*workflow.Context, In) (Out, error)) *workflow.Registry {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, name, fn); err != nil {
		t.Fatal(err)
	}
	return reg
}

// run runs name and fails the test if the run could not be carried out.
func run(t testing.TB, env *workflowtest.Env, name string, input any) *workflowtest.Result {
	t.Helper()
	res, err := env.Run(name, input)
	if err != nil {
		t.Fatalf("Run(%s): %v", name, err)
	}
	return res
}

func callStrings(calls []workflowtest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.String()
	}
	return out
}

const (
	approvedOutput  = `["Your project design proposal has been -  Approved!"]`
	rejectedOutput  = `["Your project design proposal has been -  Rejected!"]`
	escalatedOutput = `["ESCALATION : You have not approved the project design proposal - reassigning to your Manager! Head of department!"]`
)

func TestApprovalWorkflowInVirtualTime(t *testing.T) {
	type event struct {
		after time.Duration
		data  any
	}
	tests := []struct {
		name        string
		input       any
		events      []event
		wantCalls   []string
		wantOutput  string
		wantElapsed time.Duration
		wantTimer   time.Duration
		wantFired   bool
	}{
		{
			name:      "approval before the deadline records the approval",
			events:    []event{{5 * time.Second, true}},
			wantCalls: []string{`Approval("Approved")`}, wantOutput: approvedOutput,
			wantElapsed: 5 * time.Second, wantTimer: 20 * time.Second,
		},
		{
			name:      "rejection just before the deadline records the rejection",
			events:    []event{{19 * time.Second, "Rejected"}},
			wantCalls: []string{`Approval("Rejected")`}, wantOutput: rejectedOutput,
			wantElapsed: 19 * time.Second, wantTimer: 20 * time.Second,
		},
		{
			name:      "no approval escalates when the 20 s timer fires",
			wantCalls: []string{`Escalation("Head of department")`}, wantOutput: escalatedOutput,
			wantElapsed: 20 * time.Second, wantTimer: 20 * time.Second, wantFired: true,
		},
		{
			name:      "approval after the deadline is too late",
			events:    []event{{2 * time.Hour, true}},
			wantCalls: []string{`Escalation("Head of department")`}, wantOutput: escalatedOutput,
			wantElapsed: 20 * time.Second, wantTimer: 20 * time.Second, wantFired: true,
		},
		{
			name:      "the input sets a longer deadline",
			input:     map[string]any{"timeoutSeconds": 3600},
			events:    []event{{30 * time.Minute, true}},
			wantCalls: []string{`Approval("Approved")`}, wantOutput: approvedOutput,
			wantElapsed: 30 * time.Minute, wantTimer: time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, acts := samples(t)
			env := workflowtest.New(workflowtest.WithRegistry(reg), workflowtest.WithActivities(acts))
			for _, ev := range tt.events {
				env.RaiseEventAfter("Approval", ev.after, ev.data)
			}
			res := run(t, env, "ApprovalWorkflow", tt.input)
			if res.Status != protocol.StatusCompleted || string(res.Output) != tt.wantOutput {
				t.Fatalf("result = %s %s (%v), want Completed %s", res.Status, res.Output, res.Failure, tt.wantOutput)
			}
			if got := callStrings(env.Calls()); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			if res.Elapsed() != tt.wantElapsed {
				t.Errorf("virtual time elapsed = %v, want %v", res.Elapsed(), tt.wantElapsed)
			}
			timers := env.Timers()
			if len(timers) != 1 || timers[0].Duration() != tt.wantTimer || timers[0].Fired != tt.wantFired || timers[0].Canceled == tt.wantFired {
				t.Errorf("timers = %+v, want one of %v, fired = %v, cancelled = %v", timers, tt.wantTimer, tt.wantFired, !tt.wantFired)
			}
		})
	}
}

func TestThreeDayTimerFiresAtOnce(t *testing.T) {
	reg := register(t, "Reminder", func(ctx *workflow.Context, _ any) (string, error) {
		start := ctx.Now()
		if err := workflow.CreateTimer(ctx, 72*time.Hour).Await(); err != nil {
			return "", err
		}
		return ctx.Now().Sub(start).String(), nil
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	wall := time.Now()
	res := run(t, env, "Reminder", nil)
	if took := time.Since(wall); took > 10*time.Second {
		t.Errorf("the run took %v of real time", took)
	}
	var slept string
	if err := res.Decode(&slept); err != nil {
		t.Fatal(err)
	}
	if slept != "72h0m0s" || res.Elapsed() != 72*time.Hour {
		t.Errorf("the orchestrator saw %s pass and the run took %v of virtual time, want 72h both", slept, res.Elapsed())
	}
	if timers := env.Timers(); len(timers) != 1 || !timers[0].Fired || timers[0].FireAt != workflowtest.DefaultStartTime.Add(72*time.Hour) {
		t.Errorf("timers = %+v, want one fired 72h after the start", timers)
	}
}

// quotaError is an activity error of the test's own type.
type quotaError struct{ left int }

func (e *quotaError) Error() string { return fmt.Sprintf("quota exceeded, %d left", e.left) }

func TestActivityFailuresReachTheOrchestratorAsActivityError(t *testing.T) {
	type seen struct{ Name, Type, Message string }
	reg := register(t, "Notify", func(ctx *workflow.Context, _ any) (seen, error) {
		_, err := workflow.CallActivity[string](ctx, "SendMail", "ada@example.com").Await()
		var ae *workflow.ActivityError
		if !errors.As(err, &ae) {
			return seen{}, fmt.Errorf("got %T %v, want *workflow.ActivityError", err, err)
		}
		return seen{ae.Name, ae.Type, ae.Message}, nil
	})
	tests := []struct {
		name string
		mock any
		want seen
	}{
		{"function returning an error", func(context.Context, string) (string, error) { return "", errors.New("mail server down") },
			seen{"SendMail", "*errors.errorString", "mail server down"}},
		{"fixed error", &quotaError{left: 0}, seen{"SendMail", "*workflowtest_test.quotaError", "quota exceeded, 0 left"}},
		{"non-retryable error", activity.NonRetryable(errors.New("no such mailbox")), seen{"SendMail", activity.NonRetryableErrorType, "no such mailbox"}},
		{"panic", func(context.Context, string) (string, error) { panic("boom") }, seen{"SendMail", "Panic", "boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := workflowtest.New(workflowtest.WithRegistry(reg))
			env.OnActivity("SendMail", tt.mock)
			var got seen
			if err := run(t, env, "Notify", nil).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("the orchestrator saw %+v, want %+v", got, tt.want)
			}
			if calls := env.Calls(); len(calls) != 1 || calls[0].Failure == nil || calls[0].Failure.Message != tt.want.Message {
				t.Errorf("calls = %+v, want one failed with %q", calls, tt.want.Message)
			}
		})
	}
}

func TestOnActivityTakesFunctionsAndFixedResults(t *testing.T) {
	reg := register(t, "Greeter", func(ctx *workflow.Context, name string) (string, error) {
		return workflow.CallActivity[string](ctx, "Greet", name).Await()
	})
	tests := []struct {
		name string
		mock any
		want string
	}{
		{"typed function", func(_ context.Context, name string) (string, error) { return "Hello " + name, nil }, "Hello Ada"},
		{"raw JSON function", func(_ context.Context, in []byte) ([]byte, error) {
			return json.Marshal("raw " + string(in))
		}, `raw "Ada"`},
		{"activity.Func", activity.Func(func(context.Context, []byte) ([]byte, error) { return []byte(`"func"`), nil }), "func"},
		{"fixed result", "Hi", "Hi"},
		{"activity info in the context", func(ctx context.Context, _ string) (string, error) {
			info, _ := activity.GetInfo(ctx)
			return fmt.Sprintf("%s/%s/%d/%d", info.InstanceID, info.Name, info.TaskID, info.Attempt), nil
		}, "workflowtest/Greet/0/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := workflowtest.New(workflowtest.WithRegistry(reg))
			env.OnActivity("Greet", tt.mock)
			var got string
			if err := run(t, env, "Greeter", "Ada").Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOnActivityPanicsOnWhatIsNotAnActivity(t *testing.T) {
	for _, impl := range []any{
		func(string) (string, error) { return "", nil },
		func(context.Context, string, string) (string, error) { return "", nil },
		func(context.Context, string) string { return "" },
		make(chan int),
	} {
		t.Run(fmt.Sprintf("%T", impl), func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `OnActivity("Greet")`) {
					t.Errorf("recovered %v, want a panic naming the activity", r)
				}
			}()
			workflowtest.New().OnActivity("Greet", impl)
		})
	}
}

func TestRunReportsActivityWithoutMock(t *testing.T) {
	reg := register(t, "Caller", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.CallActivity[string](ctx, "Forgotten", nil).Await()
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	res, err := env.Run("Caller", nil)
	if !errors.Is(err, workflowtest.ErrNoActivity) || !strings.Contains(err.Error(), `"Forgotten"`) {
		t.Fatalf("Run error = %v, want ErrNoActivity naming the activity", err)
	}
	if res == nil || res.Status != protocol.StatusFailed || !strings.Contains(res.Failure.Message, "Forgotten") {
		t.Fatalf("result = %+v, want the orchestrator failed by the missing activity", res)
	}
}

func TestRunReportsAnOrchestratorThatWaitsForever(t *testing.T) {
	reg := register(t, "Waiter", func(ctx *workflow.Context, _ any) (string, error) {
		return workflow.WaitForExternalEvent[string](ctx, "Go").Await()
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	env.RaiseEventAfter("Other", time.Hour, nil)
	res := run(t, env, "Waiter", nil)
	if res.Status != protocol.StatusRunning || res.Elapsed() != time.Hour {
		t.Errorf("result = %s after %v, want Running after the last event at 1h", res.Status, res.Elapsed())
	}
	var out string
	if err := res.Decode(&out); !errors.Is(err, workflowtest.ErrNotFinished) {
		t.Errorf("Decode error = %v, want ErrNotFinished", err)
	}
}

func TestRunRejectsUnknownOrchestrator(t *testing.T) {
	res, err := workflowtest.New().Run("Missing", nil)
	if !errors.Is(err, workflowtest.ErrUnknownOrchestrator) || res != nil {
		t.Errorf("Run = %v, %v; want nil, ErrUnknownOrchestrator", res, err)
	}
}

func TestRunStopsAtTheStepLimit(t *testing.T) {
	reg := register(t, "Forever", func(ctx *workflow.Context, _ any) (int, error) {
		for {
			if err := workflow.CreateTimer(ctx, time.Hour).Await(); err != nil {
				return 0, err
			}
		}
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg), workflowtest.WithMaxSteps(50))
	res, err := env.Run("Forever", nil)
	if !errors.Is(err, workflowtest.ErrStepLimit) {
		t.Fatalf("Run error = %v, want ErrStepLimit", err)
	}
	if res.Status != protocol.StatusRunning || len(env.Timers()) != 50 {
		t.Errorf("status %s with %d timers, want Running with 50", res.Status, len(env.Timers()))
	}
}

func TestTimeLimitEndsAnEternalOrchestration(t *testing.T) {
	// A monitor that checks every hour and continues as new each time.
	reg := register(t, "Monitor", func(ctx *workflow.Context, n int) (int, error) {
		if _, err := workflow.CallActivity[bool](ctx, "Check", n).Await(); err != nil {
			return 0, err
		}
		if err := workflow.CreateTimer(ctx, time.Hour).Await(); err != nil {
			return 0, err
		}
		return 0, workflow.ContinueAsNew(ctx, n+1)
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg), workflowtest.WithTimeLimit(24*time.Hour))
	env.OnActivity("Check", true)
	res := run(t, env, "Monitor", 0)
	if res.Status != protocol.StatusRunning || res.ContinuedAsNew != 24 || res.Elapsed() != 24*time.Hour {
		t.Errorf("result = %s after %d continue-as-new and %v, want Running after 24 and 24h", res.Status, res.ContinuedAsNew, res.Elapsed())
	}
	var inputs []int
	for _, c := range env.Calls() {
		var n int
		if err := c.DecodeInput(&n); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, n)
	}
	want := make([]int, 25)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(inputs, want) {
		t.Errorf("Check inputs = %v, want 0..24", inputs)
	}
	if h := env.History(); len(h) == 0 || string(h[0].Events[0].Input) != "24" {
		t.Errorf("History starts with %+v, want the last execution's start with input 24", h)
	}
}

// parentAndChild registers Parent, which returns 1 + what its
// sub-orchestration Child returns: the Double activity's result after an
// hour.
func parentAndChild(t testing.TB) *workflow.Registry {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.Register(reg, "Parent", func(ctx *workflow.Context, n int) (int, error) {
		doubled, err := workflow.CallSubOrchestrator[int](ctx, "Child", n).Await()
		return doubled + 1, err
	}); err != nil {
		t.Fatal(err)
	}
	if err := workflow.Register(reg, "Child", func(ctx *workflow.Context, n int) (int, error) {
		if err := workflow.CreateTimer(ctx, time.Hour).Await(); err != nil {
			return 0, err
		}
		return workflow.CallActivity[int](ctx, "Double", n).Await()
	}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestSubOrchestrationRunsInProcess(t *testing.T) {
	env := workflowtest.New(workflowtest.WithRegistry(parentAndChild(t)))
	env.OnActivity("Double", func(_ context.Context, n int) (int, error) { return 2 * n, nil })
	var out int
	res := run(t, env, "Parent", 20)
	if err := res.Decode(&out); err != nil || out != 41 {
		t.Fatalf("output = %d, %v; want 41", out, err)
	}
	if res.Elapsed() != time.Hour {
		t.Errorf("virtual time elapsed = %v, want the child's hour", res.Elapsed())
	}
	calls := env.Calls()
	if len(calls) != 1 || calls[0].Name != "Double" || !strings.HasPrefix(calls[0].InstanceID, env.InstanceID()+"_") {
		t.Errorf("calls = %+v, want one Double call by the child instance", calls)
	}
	if acts := env.Actions(); len(acts) != 1 || acts[0].Kind != workflowtest.ActionCallSubOrchestrator || acts[0].Name != "Child" {
		t.Errorf("actions = %v, want the one sub-orchestration call", acts)
	}
}

func TestEventsArriveInTheOrderScheduled(t *testing.T) {
	reg := register(t, "Collector", func(ctx *workflow.Context, _ any) ([]string, error) {
		var got []string
		for range 3 {
			s, err := workflow.WaitForExternalEvent[string](ctx, "Item").Await()
			if err != nil {
				return nil, err
			}
			got = append(got, s+"@"+ctx.Now().Sub(workflowtest.DefaultStartTime).String())
		}
		return got, nil
	})
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	env.RaiseEventAfter("Item", time.Hour, "b")
	env.RaiseEventAfter("Item", time.Hour, "c")
	env.RaiseEventAfter("Item", 30*time.Minute, "a")
	var got []string
	if err := run(t, env, "Collector", nil).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@30m0s", "b@1h0m0s", "c@1h0m0s"}; !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestCallsAreRecordedInOrder(t *testing.T) {
	reg, _ := samples(t)
	env := workflowtest.New(workflowtest.WithRegistry(reg))
	env.OnActivity("Step", func(_ context.Context, in workflows.StepInput) (int, error) { return in.Value + 1, nil })
	var out int
	if err := run(t, env, "Chaining", workflows.ChainingInput{Steps: 5}).Decode(&out); err != nil || out != 5 {
		t.Fatalf("output = %d, %v; want 5", out, err)
	}
	calls := env.Calls()
	for i, c := range calls {
		var in workflows.StepInput
		if err := c.DecodeInput(&in); err != nil {
			t.Fatal(err)
		}
		if c.Name != "Step" || c.TaskID != int32(i) || in.Value != i || string(c.Result) != fmt.Sprint(i+1) {
			t.Errorf("call %d = %+v with input %+v, want Step(%d) = %d", i, c, in, i, i+1)
		}
	}
	if len(calls) != 5 {
		t.Errorf("%d calls, want 5", len(calls))
	}
}

func TestFailedOrchestrationResult(t *testing.T) {
	reg := register(t, "Refuser", func(*workflow.Context, any) (string, error) { return "", errors.New("no, thanks") })
	res := run(t, workflowtest.New(workflowtest.WithRegistry(reg)), "Refuser", nil)
	var f *protocol.Failure
	if err := res.Err(); !errors.As(err, &f) || f.Message != "no, thanks" || res.Status != protocol.StatusFailed {
		t.Errorf("Err() = %v with status %s, want the failure %q", err, res.Status, "no, thanks")
	}
}
