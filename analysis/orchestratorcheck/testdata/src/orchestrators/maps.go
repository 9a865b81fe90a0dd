package orchestrators

import (
	"maps"

	"github.com/endurehq/endure/workflow"
)

func RangesOverMaps(ctx *workflow.Context, in map[string]int) (int, error) {
	n := 0
	for k := range in { // want `range over a map in orchestrator RangesOverMaps: map order differs`
		n += len(k)
	}
	for k := range maps.Keys(in) { // want `range over maps.Keys in orchestrator RangesOverMaps`
		n += len(k)
	}
	type counts map[string]int
	for _, v := range counts(in) { // want `range over a map in orchestrator RangesOverMaps`
		n += v
	}
	return n, nil
}
