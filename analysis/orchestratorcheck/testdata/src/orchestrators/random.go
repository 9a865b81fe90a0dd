package orchestrators

import (
	crand "crypto/rand"
	"math/rand"
	randv2 "math/rand/v2"

	"github.com/endurehq/endure/workflow"
)

func UsesRandomNumbers(ctx *workflow.Context, _ any) (int, error) {
	var r *rand.Rand                // want `math/rand \(Rand\) in orchestrator UsesRandomNumbers is not deterministic: use ctx.NewGUID`
	r = rand.New(rand.NewSource(1)) // want `math/rand \(New\)` `math/rand \(NewSource\)`
	n := r.Intn(10)                 // want `math/rand \(Intn\)`
	n += randv2.IntN(10)            // want `math/rand/v2 \(IntN\)`
	b := make([]byte, 8)
	_, _ = crand.Read(b) // want `crypto/rand \(Read\)`
	return n, nil
}
