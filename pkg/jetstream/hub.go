package jetstream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/endurehq/endure/pkg/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultHub is the hub name used when none is given.
const DefaultHub = "default"

// Config sets up a hub. The zero value of each field means its default.
type Config struct {
	// Name is the hub name (default DefaultHub).
	Name string
	// Replicas is the replica count of every stream and bucket (default 1).
	// Use 3 on a NATS cluster.
	Replicas int
	// MemoryStorage keeps everything in memory: fast, not durable. For tests
	// and benchmarks only.
	MemoryStorage bool
	// Partitions is how many inbox partitions a new hub gets (default 16).
	// Orchestrator workers share the partitions out among themselves.
	// An existing hub keeps the number it was created with.
	Partitions int
	// ActivityLease is how long an activity worker may hold a task without a
	// heartbeat before the task is handed to another worker (default 30s).
	ActivityLease time.Duration
	// MaxPayload is the hard cap on one payload (input, output, event data,
	// activity result) in bytes (default DefaultMaxPayload). Payloads over
	// InlineLimit are kept in the hub's object store.
	MaxPayload int
	// Logger receives the hub's logs (default slog.Default()).
	Logger *slog.Logger
}

// Hub is an open task hub: a NATS connection plus the provisioned streams,
// buckets and settings. It is safe for concurrent use.
type Hub struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	cfg Config

	prefix     string
	partitions int

	inbox     jetstream.Stream
	history   jetstream.Stream
	tasks     jetstream.Stream
	index     jetstream.Stream
	instances jetstream.KeyValue
	registry  jetstream.KeyValue
	workers   jetstream.KeyValue
	payloads  jetstream.ObjectStore
	log       *slog.Logger
}

const partitionsKey = "hub.partitions"

// Open provisions the hub's streams and buckets (idempotently: any number of
// processes may call it at once) and returns it. The connection stays the
// caller's to close.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Hub, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultHub
	}
	if err := protocol.ValidateHub(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 16
	}
	if cfg.ActivityLease <= 0 {
		cfg.ActivityLease = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.MaxPayload > protocol.MaxPayload {
		return nil, fmt.Errorf("hub %s: MaxPayload %d is over the limit of %d", cfg.Name, cfg.MaxPayload, protocol.MaxPayload)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("hub %s: %w", cfg.Name, err)
	}
	h := &Hub{nc: nc, js: js, cfg: cfg, prefix: "endure." + cfg.Name, log: cfg.Logger.With("hub", cfg.Name)}
	storage := jetstream.FileStorage
	if cfg.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	base := "ENDURE_" + cfg.Name
	streams := []struct {
		dst *jetstream.Stream
		cfg jetstream.StreamConfig
	}{
		{&h.inbox, jetstream.StreamConfig{
			Name:              base + "_INBOX",
			Subjects:          []string{h.prefix + ".inbox.>", h.prefix + ".timer.>", h.prefix + ".schedule.>"},
			Retention:         jetstream.WorkQueuePolicy,
			AllowMsgSchedules: true,
			Duplicates:        2 * time.Minute,
		}},
		{&h.history, jetstream.StreamConfig{
			Name:        base + "_HISTORY",
			Subjects:    []string{h.prefix + ".history.>"},
			Retention:   jetstream.LimitsPolicy,
			AllowDirect: true,
		}},
		{&h.tasks, jetstream.StreamConfig{
			Name:       base + "_TASKS",
			Subjects:   []string{h.prefix + ".task.>"},
			Retention:  jetstream.WorkQueuePolicy,
			Duplicates: 2 * time.Minute,
		}},
		{&h.index, jetstream.StreamConfig{
			Name:              base + "_INDEX",
			Subjects:          []string{h.prefix + ".index.>", h.prefix + ".payload.>"},
			Retention:         jetstream.LimitsPolicy,
			MaxMsgsPerSubject: 1,
			AllowDirect:       true,
			AllowMsgTTL:       true,
		}},
	}
	for _, s := range streams {
		s.cfg.Storage, s.cfg.Replicas = storage, cfg.Replicas
		st, err := provisionStream(ctx, js, s.cfg)
		if err != nil {
			return nil, fmt.Errorf("hub %s: provision stream %s: %w", cfg.Name, s.cfg.Name, err)
		}
		*s.dst = st
	}
	kvs := []struct {
		dst *jetstream.KeyValue
		cfg jetstream.KeyValueConfig
	}{
		{&h.instances, jetstream.KeyValueConfig{Bucket: base + "_INSTANCES", History: 1}},
		{&h.registry, jetstream.KeyValueConfig{Bucket: base + "_REGISTRY", History: 1}},
		{&h.workers, jetstream.KeyValueConfig{Bucket: base + "_WORKERS", History: 1, TTL: WorkerTTL}},
	}
	for _, k := range kvs {
		k.cfg.Storage, k.cfg.Replicas = storage, cfg.Replicas
		kv, err := provisionKeyValue(ctx, js, k.cfg)
		if err != nil {
			return nil, fmt.Errorf("hub %s: provision bucket %s: %w", cfg.Name, k.cfg.Bucket, err)
		}
		*k.dst = kv
	}
	h.payloads, err = provisionObjectStore(ctx, js, jetstream.ObjectStoreConfig{
		Bucket: base + "_PAYLOADS", Storage: storage, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("hub %s: provision object store: %w", cfg.Name, err)
	}
	if h.partitions, err = h.settlePartitions(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// settlePartitions fixes the partition count at the first Open and reads it
// afterwards, so that every process routes work items alike.
func (h *Hub) settlePartitions(ctx context.Context) (int, error) {
	_, err := h.registry.Create(ctx, partitionsKey, []byte(strconv.Itoa(h.cfg.Partitions)))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("hub %s: store partition count: %w", h.cfg.Name, err)
	}
	e, err := h.registry.Get(ctx, partitionsKey)
	if err != nil {
		return 0, fmt.Errorf("hub %s: read partition count: %w", h.cfg.Name, err)
	}
	n, err := strconv.Atoi(string(e.Value()))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("hub %s: bad partition count %q", h.cfg.Name, e.Value())
	}
	return n, nil
}

// Name returns the hub name.
func (h *Hub) Name() string { return h.cfg.Name }

// Config returns the hub's settings, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Partitions returns the number of inbox partitions.
func (h *Hub) Partitions() int { return h.partitions }

// Conn returns the NATS connection.
func (h *Hub) Conn() *nats.Conn { return h.nc }

// JetStream returns the JetStream context.
func (h *Hub) JetStream() jetstream.JetStream { return h.js }

// PartitionOf returns the inbox partition of an instance.
func (h *Hub) PartitionOf(instanceID string) int {
	f := fnv.New32a()
	f.Write([]byte(instanceID))
	return int(f.Sum32() % uint32(h.partitions))
}

func (h *Hub) inboxSubject(instanceID string) string {
	return h.prefix + ".inbox." + strconv.Itoa(h.PartitionOf(instanceID)) + "." + instanceID
}

func (h *Hub) historySubject(instanceID string) string {
	return h.prefix + ".history." + instanceID
}

func (h *Hub) taskSubject(activity string) string { return h.prefix + ".task." + activity }

func (h *Hub) timerSubject(instanceID, executionID string, taskID int32) string {
	return h.prefix + ".timer." + instanceID + "." + executionID + "." + strconv.Itoa(int(taskID))
}
