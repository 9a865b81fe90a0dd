// Package jetstream is Endure's task hub: every stream, KV bucket and
// consumer that the client, orchestrator workers and activity workers share,
// and the operations they perform on them.
//
// A hub named H owns:
//   - stream ENDURE_H_INBOX (work queue): endure.H.inbox.<partition>.<instanceID>
//     carries work items to orchestrator workers; endure.H.timer.<instanceID>.<executionID>.<taskID>
//     holds durable timers as scheduled messages that target the inbox;
//     endure.H.schedule.<name> holds recurring schedules (@every, cron),
//     whose releases go to the shared inbox endure.H.inbox.any.<name>.
//   - stream ENDURE_H_HISTORY (limits): endure.H.history.<instanceID>, one
//     message per committed orchestration step.
//   - stream ENDURE_H_TASKS (work queue): endure.H.task.<activityName>, the
//     activity calls waiting for a worker.
//   - stream ENDURE_H_INDEX (limits, one message per subject):
//     endure.H.index.<status>.<instanceID>, the listing index; an instance
//     has one entry, under its current status, in the order instances
//     entered that status.
//   - KV bucket ENDURE_H_INSTANCES: instance ID -> status summary.
//   - KV bucket ENDURE_H_REGISTRY: which orchestrators and activities the hub's
//     workers host, and the hub's settings.
//   - object store ENDURE_H_PAYLOADS: payloads over InlineLimit, named
//     <instanceID>/<sha256>, referenced from messages, history and state.
//   - KV bucket ENDURE_H_WORKERS: the live orchestrator workers, each key
//     refreshed by its worker's heartbeat and expiring WorkerTTL after it
//     stops.
//
// Open provisions all of it idempotently, so any process may start first.
// The package never runs user code and never decides workflow semantics.
package jetstream
