package worker

import (
	"container/list"
	"sync"
	"time"

	"github.com/endurehq/endure/internal/engine"
	"github.com/endurehq/endure/pkg/protocol"
)

// cachedInstance is an instance held in memory between steps: its runtime,
// parked where the code waits, and what it last committed.
type cachedInstance struct {
	id          string
	rt          *engine.Runtime
	lastSeq     uint64                 // history sequence of the last committed record
	kvRev       uint64                 // revision of the instance state last written; 0 = unknown
	saved       protocol.RuntimeStatus // status in the state last written
	savedCustom []byte                 // custom status in the state last written
	savedAt     time.Time              // UpdatedAt of the state last written
}

// instanceCache keeps up to size instances, least recently used first out.
// An instance being stepped is taken out, so the cache never evicts it.
type instanceCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recently used
	byID  map[string]*list.Element
}

func newInstanceCache(size int) *instanceCache {
	return &instanceCache{size: size, order: list.New(), byID: map[string]*list.Element{}}
}

// take removes and returns the cached instance, or nil.
func (c *instanceCache) take(id string) *cachedInstance {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[id]
	if !ok {
		return nil
	}
	c.order.Remove(el)
	delete(c.byID, id)
	return el.Value.(*cachedInstance)
}

// put caches an instance, evicting the least recently used beyond size.
func (c *instanceCache) put(ci *cachedInstance) {
	var evicted []*cachedInstance
	c.mu.Lock()
	c.byID[ci.id] = c.order.PushFront(ci)
	for c.order.Len() > c.size {
		el := c.order.Back()
		c.order.Remove(el)
		old := el.Value.(*cachedInstance)
		delete(c.byID, old.id)
		evicted = append(evicted, old)
	}
	c.mu.Unlock()
	for _, old := range evicted {
		old.rt.Close()
	}
}

// len returns the number of cached instances.
func (c *instanceCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// closeAll empties the cache.
func (c *instanceCache) closeAll() {
	c.mu.Lock()
	all := make([]*cachedInstance, 0, c.order.Len())
	for el := c.order.Front(); el != nil; el = el.Next() {
		all = append(all, el.Value.(*cachedInstance))
	}
	c.order.Init()
	c.byID = map[string]*list.Element{}
	c.mu.Unlock()
	for _, ci := range all {
		ci.rt.Close()
	}
}
