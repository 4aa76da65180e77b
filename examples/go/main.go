// Command trainer plays episodes of a random policy against whatever
// environment an openenv-grpc server serves, over one StepStream session:
// the shape of a Go trainer, without the learning. It reads the action
// space from Describe, so it runs unchanged against CartPole, a Box-action
// env or the conformance env.
//
//	go run . --address localhost:50051 --episodes 3
//
// Against a server started with --tls-cert (and --tokens-file), add
// --ca-file ca.crt (--cert-file and --key-file for mutual TLS) and
// --token, or set OPENENV_GRPC_TOKEN so the token stays out of ps.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func main() {
	address := flag.String("address", "localhost:50051", "server address, host:port")
	episodes := flag.Int("episodes", 3, "episodes to play")
	seed := flag.Uint64("seed", 0, "seed of the env's first reset and of the policy")
	maxSteps := flag.Int("max-steps", 10_000, "cut an episode after this many steps")
	caFile := flag.String("ca-file", "", "TLS: the CA (PEM) that signed the server's certificate; plaintext without it")
	certFile := flag.String("cert-file", "", "mutual TLS: this client's certificate (PEM)")
	keyFile := flag.String("key-file", "", "mutual TLS: the private key of --cert-file (PEM)")
	token := flag.String("token", "", "bearer token sent on every call (default $OPENENV_GRPC_TOKEN)")
	flag.Parse()
	if *token == "" { // read after Parse so -h never prints the token
		*token = os.Getenv("OPENENV_GRPC_TOKEN")
	}
	opts, err := connectOptions(*caFile, *certFile, *keyFile, *token)
	if err == nil {
		err = run(*address, opts, *episodes, *seed, *maxSteps)
	}
	if err != nil && *caFile == "" && status.Code(err) == codes.Unavailable {
		// A TLS server drops a plaintext client before saying why.
		err = fmt.Errorf("%w (plaintext: a TLS server needs --ca-file)", err)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trainer:", err)
		os.Exit(1)
	}
}

// connectOptions turns the TLS and token flags into dial options: none of
// them, plaintext and no token.
func connectOptions(caFile, certFile, keyFile, token string) ([]grpc.DialOption, error) {
	opts := []grpc.DialOption{openenvgrpc.WithToken(token)}
	if caFile == "" {
		if certFile != "" || keyFile != "" {
			return nil, errors.New("--cert-file and --key-file need --ca-file")
		}
		return opts, nil
	}
	withTLS, err := openenvgrpc.WithTLS(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return append(opts, withTLS), nil
}

func run(address string, opts []grpc.DialOption, episodes int, seed uint64, maxSteps int) error {
	client, err := openenvgrpc.NewClient(address, opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	spec, err := client.Describe(ctx, &openenvv1.DescribeRequest{})
	cancel()
	if err != nil {
		return fmt.Errorf("describe %s: %w", address, err)
	}
	policy, err := newRandomPolicy(spec.GetActionSpace(), rand.New(rand.NewPCG(seed, 0x5eed)))
	if err != nil {
		return err
	}
	fmt.Printf("%s (protocol %s) on %s: random policy over %s actions\n",
		spec.GetEnvName(), spec.GetProtocolVersion(), address, policy.kind)

	// One stream for every episode: the first reset creates the session
	// (seeded once, Gymnasium-style), later resets start new episodes on it.
	session, _, err := openenvgrpc.Open(context.Background(), client, &openenvv1.ResetRequest{Seed: proto.Uint64(seed)})
	if err != nil {
		return fmt.Errorf("open a session: %w", err)
	}
	defer session.Close()
	for episode := 1; episode <= episodes; episode++ {
		if episode > 1 {
			if _, err := session.Reset(nil); err != nil {
				return fmt.Errorf("episode %d: reset: %w", episode, err)
			}
		}
		total, length, err := playEpisode(session, policy, maxSteps)
		if err != nil {
			return fmt.Errorf("episode %d: %w", episode, err)
		}
		// 'f' format: "return 23" or "return -977.0071", never an exponent.
		fmt.Printf("episode %d: return %s, length %d\n", episode, strconv.FormatFloat(total, 'f', -1, 64), length)
	}
	return session.Close()
}

// playEpisode steps until the episode terminates or is truncated (or
// maxSteps), returning the sum of rewards and the number of steps.
func playEpisode(session *openenvgrpc.Session, policy *randomPolicy, maxSteps int) (float64, int, error) {
	total := 0.0
	for length := 1; length <= maxSteps; length++ {
		action, err := policy.sample()
		if err != nil {
			return total, length - 1, err
		}
		step, err := session.Step(action)
		if err != nil {
			return total, length - 1, fmt.Errorf("step %d: %w", length, err)
		}
		total += step.GetReward()
		if step.GetTerminated() || step.GetTruncated() {
			return total, length, nil
		}
	}
	return total, maxSteps, nil
}
