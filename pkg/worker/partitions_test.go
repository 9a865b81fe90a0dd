package worker

import "testing"

func TestOwnerSharesPartitionsAndMovesOnlyTheLeaversShare(t *testing.T) {
	const partitions = 16
	live := []string{"a", "b", "c", "d"}
	count := map[string]int{}
	before := map[int]string{}
	for p := 0; p < partitions; p++ {
		o := owner(live, p)
		before[p] = o
		count[o]++
	}
	for _, id := range live {
		if count[id] == 0 {
			t.Errorf("worker %s owns no partition of %d: %v", id, partitions, count)
		}
	}
	after := []string{"a", "b", "d"} // c left
	for p := 0; p < partitions; p++ {
		o := owner(after, p)
		if before[p] != "c" && o != before[p] {
			t.Errorf("partition %d moved from %s to %s although its owner stayed", p, before[p], o)
		}
		if o == "c" {
			t.Errorf("partition %d still owned by the worker that left", p)
		}
	}
	// Order of the live list does not matter.
	for p := 0; p < partitions; p++ {
		if owner([]string{"d", "c", "b", "a"}, p) != before[p] {
			t.Errorf("partition %d: owner depends on list order", p)
		}
	}
	if got := owner(nil, 0); got != "" {
		t.Errorf("owner with no live worker = %q", got)
	}
}
