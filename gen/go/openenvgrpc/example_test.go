package openenvgrpc_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
	"google.golang.org/protobuf/proto"
)

// An episode over one stream session, as docs/clients/go.md shows it.
func ExampleOpen() {
	ctx := context.Background()
	client, err := openenvgrpc.NewClient("localhost:50051")
	if err != nil {
		return
	}
	defer client.Close()
	session, reset, err := openenvgrpc.Open(ctx, client, &openenvv1.ResetRequest{Seed: proto.Uint64(42)})
	if err != nil {
		return
	}
	defer session.Close()
	obs, _ := openenvgrpc.DecodeTensor[float32](reset.GetObservation().GetTensor())
	fmt.Println("first observation", obs)
	for {
		step, err := session.Step(openenvgrpc.IntValue(1))
		var e *openenvgrpc.Error
		if errors.As(err, &e) {
			fmt.Println("refused:", e.Reason(), e.Metadata())
			return
		} else if err != nil || step.GetTerminated() || step.GetTruncated() {
			return
		}
	}
}

// Matching a reason on a unary call: the same *Error as on a stream.
func ExampleReasonOf() {
	client, err := openenvgrpc.NewClient("localhost:50051")
	if err != nil {
		return
	}
	defer client.Close()
	_, err = client.Step(context.Background(), &openenvv1.StepRequest{SessionId: "gone", Action: openenvgrpc.IntValue(0)})
	if openenvgrpc.ReasonOf(err) == openenvgrpc.ReasonName(openenvv1.ErrorReason_ERROR_REASON_SESSION_NOT_FOUND) {
		fmt.Println("start a new session")
	}
}

// A server started with --tls-cert and --tokens-file, as
// docs/clients/go.md shows it.
func ExampleWithTLS() {
	withTLS, err := openenvgrpc.WithTLS("ca.crt", "", "") // or ("ca.crt", "client.crt", "client.key") for mutual TLS
	if err != nil {
		return
	}
	client, err := openenvgrpc.NewClient("env.example.com:50051", withTLS, openenvgrpc.WithToken(os.Getenv("OPENENV_GRPC_TOKEN")))
	if err != nil {
		return
	}
	defer client.Close()
}
