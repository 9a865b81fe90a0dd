// Package client starts and manages orchestration instances. It talks to
// the task hub in NATS JetStream directly; the HTTP API and the CLI are built
// on it.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/endurehq/endure/pkg/jetstream"
	"github.com/endurehq/endure/pkg/protocol"
	"github.com/google/uuid"
)

var (
	// ErrNotFound is returned for an instance ID the hub does not know.
	ErrNotFound = jetstream.ErrInstanceNotFound
	// ErrInstanceExists is returned when starting an ID that is not finished.
	ErrInstanceExists = errors.New("instance is already running")
	// ErrFinished is returned when an operation needs a running instance.
	ErrFinished = errors.New("instance has finished")
	// ErrUnknownOrchestrator is returned when no worker hosts the name.
	ErrUnknownOrchestrator = errors.New("unknown orchestrator")
	// ErrInvalidInput is returned for input that is not valid JSON or
	// cannot be encoded.
	ErrInvalidInput = errors.New("invalid input")
	// ErrBadSchedule is returned for a schedule specification Endure cannot
	// run.
	ErrBadSchedule = jetstream.ErrBadSchedule
	// ErrScheduleNotFound is returned when deleting an unknown schedule.
	ErrScheduleNotFound = jetstream.ErrScheduleNotFound
)

// Client manages the instances of one task hub. It is safe for concurrent use.
type Client struct {
	hub   *jetstream.Hub
	known sync.Map // orchestrator names seen in the registry
}

// New returns a client for hub.
func New(hub *jetstream.Hub) *Client { return &Client{hub: hub} }

// Hub returns the client's task hub.
func (c *Client) Hub() *jetstream.Hub { return c.hub }

// StartOption configures Start.
type StartOption func(*startOptions) error

type startOptions struct {
	id      string
	input   []byte
	startAt time.Time
	reuse   bool
}

// WithStartAt schedules the instance to start at t: until then it is
// Pending, and it can be terminated or purged like any other.
func WithStartAt(t time.Time) StartOption {
	return func(o *startOptions) error {
		o.startAt = t
		return nil
	}
}

// WithoutIDReuse refuses a chosen ID that any instance has held, finished
// or not, unless it was purged (by default a finished instance's ID is
// reused and the old instance replaced).
func WithoutIDReuse() StartOption {
	return func(o *startOptions) error {
		o.reuse = false
		return nil
	}
}

// WithInstanceID starts the instance under a chosen ID instead of a new one.
func WithInstanceID(id string) StartOption {
	return func(o *startOptions) error {
		o.id = id
		return nil
	}
}

// WithInput sets the orchestration's input, encoded as JSON. Pass a
// json.RawMessage to give JSON text as it is.
func WithInput(v any) StartOption {
	return func(o *startOptions) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
		o.input = b
		return nil
	}
}

// Start starts a new instance of the named orchestrator and returns its ID.
// It fails with ErrUnknownOrchestrator if no worker of the hub has registered
// the name, ErrInstanceExists if a chosen ID is taken by an instance that has
// not finished, and an error wrapping protocol.ErrInvalidName for a name or
// ID that Endure cannot carry. A finished instance's ID may be reused: the old
// instance is replaced.
func (c *Client) Start(ctx context.Context, name string, opts ...StartOption) (string, error) {
	o := startOptions{reuse: true}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return "", err
		}
	}
	if err := protocol.ValidateName(name); err != nil {
		return "", err
	}
	if o.id == "" {
		o.id = strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	if err := protocol.ValidateInstanceID(o.id); err != nil {
		return "", err
	}
	if len(o.input) > 0 && !json.Valid(o.input) {
		return "", fmt.Errorf("%w: not valid JSON", ErrInvalidInput)
	}
	if string(o.input) == "null" {
		o.input = nil
	}
	if err := protocol.CheckPayloadLimit("input", o.input, c.hub.Config().MaxPayload); err != nil {
		return "", err
	}
	if err := c.checkOrchestrator(ctx, name); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	exec := uuid.NewString()
	st := &protocol.InstanceState{
		InstanceID: o.id, Name: name, ExecutionID: exec, Status: protocol.StatusPending,
		Input: o.input, CreatedAt: now, UpdatedAt: now, StartAt: o.startAt.UTC(),
	}
	if !o.reuse {
		if _, err := c.hub.GetInstance(ctx, o.id); err == nil {
			return "", fmt.Errorf("%w: %s has been used and ID reuse is off", ErrInstanceExists, o.id)
		} else if !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	// The state first (it claims the ID), then its index entry and the start
	// message together.
	eff := c.hub.NewEffects()
	rev, err := c.hub.ClaimInstance(ctx, st, eff)
	if err != nil {
		if errors.Is(err, jetstream.ErrInstanceExists) {
			return "", fmt.Errorf("%w: %v", ErrInstanceExists, err)
		}
		return "", err
	}
	eff.SendWork(&protocol.WorkItem{InstanceID: o.id, ExecutionID: exec, StateRevision: rev, Event: protocol.Event{
		Type: protocol.EventExecutionStarted, Time: now, Name: name, ExecutionID: exec, Input: o.input,
		FireAt: o.startAt.UTC(),
	}}, "start/"+o.id+"/"+exec)
	if _, err := eff.Send(ctx); err != nil {
		return "", err
	}
	return o.id, nil
}

func (c *Client) checkOrchestrator(ctx context.Context, name string) error {
	if _, ok := c.known.Load(name); ok {
		return nil
	}
	ok, err := c.hub.HasOrchestrator(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q is not hosted by any orchestrator worker of hub %s", ErrUnknownOrchestrator, name, c.hub.Name())
	}
	c.known.Store(name, true)
	return nil
}

// Status is an instance's status as Durable Functions reports it.
type Status struct {
	// Name is the orchestrator name.
	Name string
	// InstanceID is the instance's ID.
	InstanceID string
	// RuntimeStatus is Pending, Running, Completed, Failed, Terminated, ...
	RuntimeStatus protocol.RuntimeStatus
	// Input is the JSON input (nil for none).
	Input json.RawMessage
	// Output is the JSON output of a completed or terminated instance.
	Output json.RawMessage
	// CustomStatus is the JSON custom status set by the orchestrator.
	CustomStatus json.RawMessage
	// Failure says why a failed instance failed.
	Failure *protocol.Failure
	// CreatedAt is when the instance was started.
	CreatedAt time.Time
	// LastUpdatedAt is when its status last changed.
	LastUpdatedAt time.Time
}

func statusFrom(st *protocol.InstanceState) *Status {
	return &Status{
		Name: st.Name, InstanceID: st.InstanceID, RuntimeStatus: st.Status,
		Input: st.Input, Output: st.Output, CustomStatus: st.CustomStatus, Failure: st.Failure,
		CreatedAt: st.CreatedAt, LastUpdatedAt: st.UpdatedAt,
	}
}

// Status returns an instance's status, or ErrNotFound.
func (c *Client) Status(ctx context.Context, id string) (*Status, error) {
	e, err := c.hub.GetInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	return statusFrom(&e.State), nil
}

// RaiseEvent delivers an external event with JSON data to an instance. It
// returns ErrNotFound for an unknown instance and ErrFinished for one that
// has finished.
func (c *Client) RaiseEvent(ctx context.Context, id, eventName string, data json.RawMessage, opts ...RaiseOption) error {
	var o raiseOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := protocol.ValidateEventName(eventName); err != nil {
		return err
	}
	if o.eventID != "" {
		if err := protocol.ValidateInstanceID(o.eventID); err != nil {
			return fmt.Errorf("event ID: %w", err)
		}
	}
	if len(data) > 0 && !json.Valid(data) {
		return fmt.Errorf("%w: event data is not valid JSON", ErrInvalidInput)
	}
	if err := protocol.CheckPayloadLimit("event data", data, c.hub.Config().MaxPayload); err != nil {
		return err
	}
	if _, err := c.running(ctx, id); err != nil {
		return err
	}
	// No execution ID: an event goes to whichever execution is current when
	// it arrives, also across continue-as-new.
	return c.sendOnce(ctx, &protocol.WorkItem{InstanceID: id, Event: protocol.Event{
		Type: protocol.EventEventRaised, Time: time.Now().UTC(), Name: eventName, Input: data, EventID: o.eventID,
	}})
}

// RaiseOption configures RaiseEvent.
type RaiseOption func(*raiseOptions)

type raiseOptions struct{ eventID string }

// WithEventID names the event (letters, digits, '-', '_', '='; at most 256),
// so that raising it again, say when a caller retries after a timeout, does
// not deliver it twice: an instance takes each event ID once. By default
// every call raises a new event.
func WithEventID(eventID string) RaiseOption {
	return func(o *raiseOptions) { o.eventID = eventID }
}

// Terminate stops a running instance at once, recording reason as its
// output; its pending timers are cancelled and later results ignored.
func (c *Client) Terminate(ctx context.Context, id, reason string) error {
	exec, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	out, _ := json.Marshal(reason)
	return c.sendOnce(ctx, &protocol.WorkItem{InstanceID: id, ExecutionID: exec, Event: protocol.Event{
		Type: protocol.EventExecutionTerminated, Time: time.Now().UTC(), Reason: reason, Result: out,
	}})
}

// sendOnce sends an event or a management request under its event ID (a
// new one if it has none), so that the instance applies it once however
// often it is sent or delivered (a suspend delivered again after a resume
// would otherwise suspend the instance again).
func (c *Client) sendOnce(ctx context.Context, item *protocol.WorkItem) error {
	if item.Event.EventID == "" {
		item.Event.EventID = strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	return c.hub.SendWork(ctx, item, "op/"+item.InstanceID+"/"+item.Event.EventID)
}

// running returns the current execution of an instance that has not
// finished.
func (c *Client) running(ctx context.Context, id string) (string, error) {
	e, err := c.hub.GetInstance(ctx, id)
	if err != nil {
		return "", err
	}
	if e.State.Status.Terminal() {
		return "", fmt.Errorf("%w: %s is %s", ErrFinished, id, e.State.Status)
	}
	return e.State.ExecutionID, nil
}

// WaitForCompletion blocks until the instance finishes (Completed, Failed,
// Terminated or Canceled) or ctx ends, and returns its final status. It
// returns ctx's error when ctx ends first, and ErrNotFound for an unknown
// or purged instance.
func (c *Client) WaitForCompletion(ctx context.Context, id string) (*Status, error) {
	return c.waitFor(ctx, id, func(s protocol.RuntimeStatus) bool { return s.Terminal() })
}

// WaitForStart blocks until the instance has left Pending or ctx ends, and
// returns its status then; errors as WaitForCompletion.
func (c *Client) WaitForStart(ctx context.Context, id string) (*Status, error) {
	return c.waitFor(ctx, id, func(s protocol.RuntimeStatus) bool { return s != protocol.StatusPending })
}

func (c *Client) waitFor(ctx context.Context, id string, done func(protocol.RuntimeStatus) bool) (*Status, error) {
	for st, err := range c.Watch(ctx, id) {
		if err != nil {
			return nil, err
		}
		if done(st.RuntimeStatus) {
			return st, nil
		}
	}
	return nil, fmt.Errorf("watch %s: ended", id) // Watch ends only by yielding an error
}

// Suspend pauses a running instance: it runs nothing until resumed, and
// results, fired timers and events that arrive meanwhile are kept for then.
func (c *Client) Suspend(ctx context.Context, id, reason string) error {
	return c.send(ctx, id, protocol.Event{Type: protocol.EventExecutionSuspended, Reason: reason})
}

// Resume continues a suspended instance with what arrived while it was
// suspended.
func (c *Client) Resume(ctx context.Context, id, reason string) error {
	return c.send(ctx, id, protocol.Event{Type: protocol.EventExecutionResumed, Reason: reason})
}

func (c *Client) send(ctx context.Context, id string, ev protocol.Event) error {
	exec, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	ev.Time = time.Now().UTC()
	return c.sendOnce(ctx, &protocol.WorkItem{InstanceID: id, ExecutionID: exec, Event: ev})
}

// ErrNotFailed is returned by Rewind for an instance that has not failed.
var ErrNotFailed = errors.New("instance has not failed")

// ErrNotFinished is returned by Purge for an instance that has not finished.
var ErrNotFinished = errors.New("instance has not finished")

// Rewind re-runs a Failed instance's failed activities and carries on from
// there. It returns ErrFinished for an instance that completed or was
// terminated, and ErrNotFailed for one that is still running.
func (c *Client) Rewind(ctx context.Context, id, reason string) error {
	e, err := c.hub.GetInstance(ctx, id)
	if err != nil {
		return err
	}
	switch st := e.State.Status; {
	case st == protocol.StatusFailed:
	case st.Terminal():
		return fmt.Errorf("%w: %s is %s; only Failed instances can be rewound", ErrFinished, id, st)
	default:
		return fmt.Errorf("%w: %s is %s", ErrNotFailed, id, st)
	}
	return c.sendOnce(ctx, &protocol.WorkItem{InstanceID: id, ExecutionID: e.State.ExecutionID, Event: protocol.Event{
		Type: protocol.EventExecutionRewound, Time: time.Now().UTC(), Reason: reason,
	}})
}

// Restart starts the instance's orchestrator again with its original input,
// under a new ID (newID true) or the same one (which must have finished),
// and returns the ID.
func (c *Client) Restart(ctx context.Context, id string, newID bool) (string, error) {
	e, err := c.hub.GetInstance(ctx, id)
	if err != nil {
		return "", err
	}
	opts := []StartOption{}
	if len(e.State.Input) > 0 {
		opts = append(opts, WithInput(json.RawMessage(e.State.Input)))
	}
	if !newID {
		opts = append(opts, WithInstanceID(id))
	}
	return c.Start(ctx, e.State.Name, opts...)
}

// Purge deletes a finished instance: its history, state and any timers. It
// returns ErrNotFinished for an instance that is still running.
func (c *Client) Purge(ctx context.Context, id string) error {
	e, err := c.hub.GetInstance(ctx, id)
	if err != nil {
		return err
	}
	if !e.State.Status.Terminal() {
		return fmt.Errorf("%w: %s is %s; terminate it first", ErrNotFinished, id, e.State.Status)
	}
	if err := c.hub.PurgeInstance(ctx, id); err != nil {
		return err
	}
	return c.hub.UnindexInstance(ctx, id, e.State.Status)
}

// children returns the instance IDs of the sub-orchestrations an instance
// called (not those it started fire-and-forget).
func (c *Client) children(ctx context.Context, id string) ([]string, error) {
	h, err := c.hub.ReadHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range h.Records {
		for _, ev := range rec.Events {
			if ev.Type == protocol.EventSubOrchestrationCreated && !ev.Detached {
				ids = append(ids, ev.Target)
			}
		}
	}
	return ids, nil
}

// TerminateRecursive terminates an instance like Terminate, and every
// sub-orchestration it called that is still running, at any depth.
func (c *Client) TerminateRecursive(ctx context.Context, id, reason string) error {
	kids, err := c.children(ctx, id)
	if err != nil {
		return err
	}
	if err := c.Terminate(ctx, id, reason); err != nil {
		return err
	}
	for _, kid := range kids {
		if err := c.TerminateRecursive(ctx, kid, reason); err != nil && !errors.Is(err, ErrFinished) && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("terminate sub-orchestration %s: %w", kid, err)
		}
	}
	return nil
}

// PurgeRecursive purges a finished instance like Purge, and every
// sub-orchestration it called, at any depth. It purges nothing, and returns
// ErrNotFinished, if any of them has not finished.
func (c *Client) PurgeRecursive(ctx context.Context, id string) (int, error) {
	tree := []string{id}
	for i := 0; i < len(tree); i++ {
		kids, err := c.children(ctx, tree[i])
		if err != nil {
			return 0, err
		}
		tree = append(tree, kids...)
	}
	type found struct {
		id     string
		status protocol.RuntimeStatus
	}
	var all []found
	for i, x := range tree {
		e, err := c.hub.GetInstance(ctx, x)
		if errors.Is(err, ErrNotFound) && i > 0 {
			continue // a child already purged
		}
		if err != nil {
			return 0, err
		}
		if !e.State.Status.Terminal() {
			return 0, fmt.Errorf("%w: %s is %s; terminate it first", ErrNotFinished, x, e.State.Status)
		}
		all = append(all, found{x, e.State.Status})
	}
	for _, f := range all {
		if err := c.hub.PurgeInstance(ctx, f.id); err != nil {
			return 0, err
		}
		if err := c.hub.UnindexInstance(ctx, f.id, f.status); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}

// Schedule is a recurring start (see CreateSchedule).
type Schedule = jetstream.Schedule

// ScheduleOption configures CreateSchedule.
type ScheduleOption func(*Schedule)

// WithTimeZone reads a cron schedule in an IANA time zone ("Europe/Paris")
// instead of UTC, daylight saving included.
func WithTimeZone(name string) ScheduleOption {
	return func(s *Schedule) { s.TimeZone = name }
}

// CreateSchedule creates or replaces the recurring schedule name: at every
// occurrence of spec ("@every 1m", "@daily", or a 6-field cron expression,
// seconds first, in UTC unless WithTimeZone says otherwise) an instance of
// the orchestrator starts with input, under the ID <name>-<UTC time of the
// occurrence>. Schedules are kept by JetStream and survive restarts of
// every process. A spec Endure cannot run gives ErrBadSchedule.
func (c *Client) CreateSchedule(ctx context.Context, name, spec, orchestrator string, input any, opts ...ScheduleOption) error {
	b, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	if string(b) == "null" {
		b = nil
	}
	if err := protocol.CheckPayloadLimit("input", b, jetstream.InlineLimit); err != nil {
		return err
	}
	s := Schedule{Name: name, Spec: spec, Orchestrator: orchestrator, Input: b}
	for _, opt := range opts {
		opt(&s)
	}
	if err := jetstream.ValidateScheduleSpec(spec); err != nil {
		return err
	}
	if err := c.checkOrchestrator(ctx, orchestrator); err != nil {
		return err
	}
	return c.hub.PutSchedule(ctx, s)
}

// DeleteSchedule removes a recurring schedule; the instances it started
// stay. It returns ErrScheduleNotFound for an unknown name.
func (c *Client) DeleteSchedule(ctx context.Context, name string) error {
	return c.hub.DeleteSchedule(ctx, name)
}

// Schedules lists the recurring schedules.
func (c *Client) Schedules(ctx context.Context) ([]Schedule, error) { return c.hub.Schedules(ctx) }
