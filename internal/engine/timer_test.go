package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/endurehq/endure/workflow"
)

func sleepAnHour(ctx *workflow.Context, _ any) (time.Time, error) {
	if err := workflow.CreateTimer(ctx, time.Hour).Await(); err != nil {
		return time.Time{}, err
	}
	return ctx.Now(), nil
}

func TestCreateTimerRecordsFireTimeAndResumesWhenFired(t *testing.T) {
	in := newInstance(t, lookupOf(t, "Sleep", sleepAnHour))

	rec := in.step(started("Sleep", nil))
	wantEvents(t, rec, protocol.EventExecutionStarted, protocol.EventTimerCreated)
	created := find(t, rec, protocol.EventTimerCreated)
	if created.TaskID != 0 || !created.FireAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("TimerCreated = #%d at %v, want #0 at %v", created.TaskID, created.FireAt, t0.Add(time.Hour))
	}

	wantEvents(t, in.step(raised("Unrelated", 1)), protocol.EventEventRaised)
	if in.rt.Status() != protocol.StatusRunning {
		t.Fatalf("status before the timer fired = %s, want Running", in.rt.Status())
	}

	fireAt := t0.Add(time.Hour)
	wantEvents(t, in.stepAt(fireAt, fired(0)), protocol.EventTimerFired, protocol.EventExecutionCompleted)
	wantOutput(t, in.rt, fireAt)
}

func TestCreateTimerAtKeepsTheInstantInUTC(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	due := time.Date(2025, time.March, 2, 18, 0, 0, 0, tokyo)
	timerAt := func(ctx *workflow.Context, _ any) (string, error) {
		return "", workflow.CreateTimerAt(ctx, due).Await()
	}
	in := newInstance(t, lookupOf(t, "At", timerAt))
	created := find(t, in.step(started("At", nil)), protocol.EventTimerCreated)
	if !created.FireAt.Equal(due) || created.FireAt.Location() != time.UTC {
		t.Fatalf("FireAt = %v, want %v in UTC", created.FireAt, due.UTC())
	}
}

// raceThenCancel waits for Work or a one-hour timeout, then cancels the
// timer either way and reports what the timer's Await said.
func raceThenCancel(ctx *workflow.Context, _ any) (string, error) {
	timer := workflow.CreateTimer(ctx, time.Hour)           // #0
	work := workflow.CallActivity[string](ctx, "Work", nil) // #1
	workflow.Any(ctx, work, timer)
	timer.Cancel()
	err := timer.Await()
	if err := ctx.SetCustomStatus(errors.Is(err, workflow.ErrCanceled)); err != nil {
		return "", err
	}
	return workflow.CallActivity[string](ctx, "Report", errors.Is(err, workflow.ErrCanceled)).Await() // #2
}

func TestCancelTimer(t *testing.T) {
	tests := []struct {
		name         string
		first        protocol.Event
		want         []protocol.EventType
		wantCanceled bool
	}{
		{
			name:         "pending timer is cancelled and Await returns ErrCanceled",
			first:        completed(1, "done"),
			want:         []protocol.EventType{protocol.EventTaskCompleted, protocol.EventTimerCanceled, protocol.EventTaskScheduled},
			wantCanceled: true,
		},
		{
			name:  "cancelling a fired timer does nothing",
			first: fired(0),
			want:  []protocol.EventType{protocol.EventTimerFired, protocol.EventTaskScheduled},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := lookupOf(t, "Race", raceThenCancel)
			in := newInstance(t, lookup)
			in.step(started("Race", nil))

			rec := in.step(tt.first)
			wantEvents(t, rec, tt.want...)
			if tt.wantCanceled && find(t, rec, protocol.EventTimerCanceled).TaskID != 0 {
				t.Errorf("TimerCanceled names task #%d, want #0", find(t, rec, protocol.EventTimerCanceled).TaskID)
			}
			report := find(t, rec, protocol.EventTaskScheduled)
			if got, want := string(report.Input), string(jsonOf(tt.wantCanceled)); got != want {
				t.Errorf("errors.Is(Await(), ErrCanceled) = %s, want %s", got, want)
			}

			// A late TimerFired for the cancelled timer is not history.
			wantEvents(t, in.step(fired(0)))

			// Replaying the cancel takes it again without emitting it again.
			replayed := replayInto(t, lookup, in.records)
			wantSameState(t, stateOf(replayed), stateOf(in.rt))
			if got := string(replayed.CustomStatus()); got != string(jsonOf(tt.wantCanceled)) {
				t.Errorf("custom status after replay = %s, want %v: the code did not run past the cancel", got, tt.wantCanceled)
			}
			rec, err := replayed.Step(in.now, nil)
			if err != nil || rec != nil {
				t.Fatalf("Step after replay = %v, %v; want nothing new", rec, err)
			}
			rec, err = replayed.Step(in.now, []protocol.Event{completed(2, "ok")})
			if err != nil {
				t.Fatal(err)
			}
			wantEvents(t, rec, protocol.EventTaskCompleted, protocol.EventExecutionCompleted)
			wantOutput(t, replayed, "ok")
		})
	}
}

func TestFinishingCancelsPendingTimers(t *testing.T) {
	timeout := func(ctx *workflow.Context, _ any) (string, error) {
		timer := workflow.CreateTimer(ctx, time.Hour)           // #0
		work := workflow.CallActivity[string](ctx, "Work", nil) // #1
		if workflow.Any(ctx, work, timer) == 1 {
			return "timed out", nil
		}
		return work.Await() // the timer is left pending
	}
	in := newInstance(t, lookupOf(t, "Timeout", timeout))
	in.step(started("Timeout", nil))
	rec := in.step(completed(1, "done"))
	wantEvents(t, rec, protocol.EventTaskCompleted, protocol.EventExecutionCompleted, protocol.EventTimerCanceled)
	if id := find(t, rec, protocol.EventTimerCanceled).TaskID; id != 0 {
		t.Errorf("TimerCanceled names #%d, want #0", id)
	}
	wantOutput(t, in.rt, "done")
}
