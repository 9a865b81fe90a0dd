package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrBadSchedule is wrapped by errors about a schedule specification.
var ErrBadSchedule = errors.New("invalid schedule")

// Schedule is a recurring start: JetStream releases a copy of its message
// at every occurrence, and an orchestrator worker starts an instance from it.
type Schedule struct {
	// Name identifies the schedule; its instances are named <Name>-<time>.
	Name string
	// Spec is "@every <duration>" (at least 1s), a predefined schedule
	// (@hourly, @daily, ...) or a 6-field cron expression (seconds first).
	Spec string
	// Orchestrator is the orchestrator each occurrence starts.
	Orchestrator string
	// Input is the JSON input each instance gets.
	Input []byte
	// TimeZone is the IANA time zone ("Europe/Paris") a cron Spec is read
	// in; empty means UTC. @every schedules take none.
	TimeZone string
}

// ValidateScheduleSpec checks a schedule specification.
func ValidateScheduleSpec(spec string) error {
	switch {
	case strings.HasPrefix(spec, "@every "):
		d, err := time.ParseDuration(strings.TrimPrefix(spec, "@every "))
		if err != nil || d < time.Second {
			return fmt.Errorf("%w: %q: @every needs a duration of at least 1s", ErrBadSchedule, spec)
		}
	case spec == jetstream.ScheduleYearly, spec == jetstream.ScheduleMonthly, spec == jetstream.ScheduleWeekly,
		spec == jetstream.ScheduleDaily, spec == jetstream.ScheduleHourly:
	case len(strings.Fields(spec)) == 6:
	default:
		return fmt.Errorf("%w: %q: use @every <duration>, @hourly, @daily, @weekly, @monthly, @yearly or a 6-field cron expression", ErrBadSchedule, spec)
	}
	return nil
}

// PutSchedule creates or replaces a recurring schedule.
func (h *Hub) PutSchedule(ctx context.Context, s Schedule) error {
	if err := protocol.ValidateInstanceID(s.Name); err != nil {
		return err
	}
	if err := protocol.ValidateName(s.Orchestrator); err != nil {
		return err
	}
	if err := ValidateScheduleSpec(s.Spec); err != nil {
		return err
	}
	if s.TimeZone != "" {
		if strings.HasPrefix(s.Spec, "@every ") {
			return fmt.Errorf("%w: %q: an @every schedule takes no time zone", ErrBadSchedule, s.Spec)
		}
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
			return fmt.Errorf("%w: unknown time zone %q (want an IANA name such as Europe/Paris)", ErrBadSchedule, s.TimeZone)
		}
	}
	data, err := protocol.Marshal(&protocol.WorkItem{InstanceID: s.Name, Schedule: s.Spec,
		Event: protocol.Event{Type: protocol.EventExecutionStarted, Name: s.Orchestrator, Input: s.Input}})
	if err != nil {
		return err
	}
	msg := nats.NewMsg(h.prefix + ".schedule." + s.Name)
	msg.Data = data
	msg.Header.Set("Nats-Schedule", s.Spec)
	if s.TimeZone != "" {
		msg.Header.Set("Nats-Schedule-Time-Zone", s.TimeZone)
	}
	msg.Header.Set("Nats-Schedule-Target", h.prefix+".inbox."+sharedPartition+"."+s.Name)
	if _, err := h.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("put schedule %s: %w", s.Name, err)
	}
	return nil
}

// DeleteSchedule removes a recurring schedule; instances it started stay.
// It returns ErrScheduleNotFound if the hub has no schedule of that name.
func (h *Hub) DeleteSchedule(ctx context.Context, name string) error {
	if err := protocol.ValidateInstanceID(name); err != nil {
		return err
	}
	subject := h.prefix + ".schedule." + name
	if _, err := h.inbox.GetLastMsgForSubject(ctx, subject); errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: %s", ErrScheduleNotFound, name)
	} else if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	if err := h.inbox.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return nil
}

// Schedules lists the hub's recurring schedules.
func (h *Hub) Schedules(ctx context.Context) ([]Schedule, error) {
	info, err := h.inbox.Info(ctx, jetstream.WithSubjectFilter(h.prefix+".schedule.>"))
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var out []Schedule
	for subject := range info.State.Subjects {
		m, err := h.inbox.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read schedule %s: %w", subject, err)
		}
		var item protocol.WorkItem
		if err := protocol.Unmarshal(m.Data, &item); err != nil {
			return nil, fmt.Errorf("read schedule %s: %w", subject, err)
		}
		out = append(out, Schedule{Name: item.InstanceID, Spec: item.Schedule, Orchestrator: item.Event.Name, Input: item.Event.Input,
			TimeZone: m.Header.Get("Nats-Schedule-Time-Zone")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
