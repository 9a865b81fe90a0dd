// Package worker hosts user code: OrchestratorWorker runs orchestrators from
// the inbox streams, ActivityWorker runs activities from the task queues.
// Both coordinate with other processes only through the task hub in
// pkg/jetstream, so any number of each may run, and any may be killed and
// restarted without losing work.
package worker
