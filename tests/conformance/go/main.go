// Command conformance runs the conformance scenario of
// tests/conformance/README.md against a live server, through the Go
// package of gen/go (generated code plus openenvgrpc), and prints one line
// per check, then "N passed, M failed". It exits 0 only when nothing
// failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
)

// callTimeout bounds every call whose deadline the scenario leaves open, so
// a wedged server fails a check instead of hanging the run.
const callTimeout = 30 * time.Second

func main() {
	address := flag.String("address", "localhost:50051", "server address, host:port")
	scenarioPath := flag.String("scenario", "tests/conformance/scenario.json", "the scenario file")
	golden := flag.String("golden", "tests/conformance/golden", "the golden messages folder")
	flag.Parse()

	sc, err := loadScenario(*scenarioPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	client, err := openenvgrpc.NewClient(*address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	defer client.Close()

	r := &runner{client: client, sc: sc, golden: *golden}
	passed, failed := 0, 0
	for _, c := range checks {
		if err := r.run(c.run); err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", c.name, err)
		} else {
			passed++
			fmt.Printf("PASS %s\n", c.name)
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// runner is what every check needs: the client, the scenario, the goldens.
type runner struct {
	client *openenvgrpc.Client
	sc     *scenario
	golden string
	// The session of unary_episode and step_after_end, and the one of
	// action_out_of_space, out_of_order and retried_step.
	unarySession, spaceSession string
}

// run runs one check, turning a panic into its failure.
func (r *runner) run(check func(*runner) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return check(r)
}

// ctx is a context for one call, with the default deadline.
func (r *runner) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}
