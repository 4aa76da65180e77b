package openenvgrpc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// richStatus is the google.rpc.Status a server sends for an out-of-order
// step: ErrorInfo (with a detail of another domain before it) and RetryInfo.
func richStatus(t *testing.T) *statuspb.Status {
	t.Helper()
	var details []*anypb.Any
	for _, m := range []proto.Message{
		&errdetails.ErrorInfo{Reason: "SOMETHING_ELSE", Domain: "example.com"},
		&errdetails.ErrorInfo{
			Reason: "STEP_OUT_OF_ORDER", Domain: Domain,
			Metadata: map[string]string{"step_index": "5", "step_count": "0"},
		},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)},
	} {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		details = append(details, a)
	}
	return &statuspb.Status{Code: int32(codes.Aborted), Message: "step 5 is out of order", Details: details}
}

func checkRich(t *testing.T, e *Error) {
	t.Helper()
	if e == nil {
		t.Fatal("no Error")
	}
	if e.Code() != codes.Aborted || e.Message() != "step 5 is out of order" {
		t.Errorf("code %s message %q", e.Code(), e.Message())
	}
	if e.Reason() != "STEP_OUT_OF_ORDER" || e.Domain() != Domain {
		t.Errorf("reason %q domain %q", e.Reason(), e.Domain())
	}
	if e.ErrorReason() != openenvv1.ErrorReason_ERROR_REASON_STEP_OUT_OF_ORDER {
		t.Errorf("ErrorReason %s", e.ErrorReason())
	}
	if want := map[string]string{"step_index": "5", "step_count": "0"}; !maps.Equal(e.Metadata(), want) {
		t.Errorf("metadata %v, want %v", e.Metadata(), want)
	}
	if d, ok := e.RetryDelay(); !ok || d != 1500*time.Millisecond {
		t.Errorf("retry delay %v %v", d, ok)
	}
}

func TestErrorFromUnaryTrailer(t *testing.T) {
	// What a unary call returns: the status rebuilt from the
	// grpc-status-details-bin trailer, here wrapped by the caller.
	err := fmt.Errorf("stepping: %w", status.FromProto(richStatus(t)).Err())
	var e *Error
	if errors.As(err, &e) {
		t.Fatal("a plain gRPC error is not yet an *Error")
	}
	e, ok := FromError(err)
	if !ok {
		t.Fatal("FromError found no status")
	}
	checkRich(t, e)
	if ReasonOf(err) != "STEP_OUT_OF_ORDER" {
		t.Errorf("ReasonOf %q", ReasonOf(err))
	}
}

func TestErrorFromStreamAnswer(t *testing.T) {
	// What a StepStream answers in-band: the same Status in the response.
	resp := &openenvv1.StepStreamResponse{Seq: 3, Response: &openenvv1.StepStreamResponse_Error{Error: richStatus(t)}}
	wire, _ := proto.Marshal(resp)
	var back openenvv1.StepStreamResponse
	if err := proto.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	e := FromStatus(back.GetError())
	checkRich(t, e)
	// Usable as any error: errors.As through wrapping, status.Code.
	var target *Error
	if err := fmt.Errorf("ctx: %w", e); !errors.As(err, &target) || target != e {
		t.Error("errors.As does not find the *Error")
	}
	if status.Code(e) != codes.Aborted {
		t.Errorf("status.Code %s", status.Code(e))
	}
	if got := e.Error(); got != "openenv: STEP_OUT_OF_ORDER (Aborted): step 5 is out of order" {
		t.Errorf("Error() %q", got)
	}
}

func TestErrorWithoutErrorInfo(t *testing.T) {
	e, ok := FromError(status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
	if !ok || e.Code() != codes.DeadlineExceeded || e.Reason() != "" || e.Metadata() == nil {
		t.Fatalf("%v %v", e, ok)
	}
	if e.ErrorReason() != openenvv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Errorf("ErrorReason %s", e.ErrorReason())
	}
	if _, ok := e.RetryDelay(); ok {
		t.Error("a retry delay out of nowhere")
	}
	if e, ok := FromError(context.DeadlineExceeded); !ok || e.Code() != codes.DeadlineExceeded {
		t.Errorf("context error: %v %v", e, ok)
	}
	if _, ok := FromError(errors.New("not grpc")); ok {
		t.Error("a plain error became an *Error")
	}
	if FromStatus(&statuspb.Status{}) != nil || FromStatus(nil) != nil {
		t.Error("an OK status is an error")
	}
}

func TestReasonName(t *testing.T) {
	if got := ReasonName(openenvv1.ErrorReason_ERROR_REASON_SESSION_NOT_FOUND); got != "SESSION_NOT_FOUND" {
		t.Errorf("ReasonName %q", got)
	}
}

func TestUnaryInterceptor(t *testing.T) {
	var sent metadata.MD
	invoker := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
		sent, _ = metadata.FromOutgoingContext(ctx)
		return status.FromProto(richStatus(t)).Err()
	}
	err := unaryInterceptor(context.Background(), "/openenv.v1.EnvService/Step",
		&openenvv1.StepRequest{SessionId: "s-1"}, &openenvv1.StepResponse{}, nil, invoker)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("interceptor returned %T", err)
	}
	checkRich(t, e)
	if got := sent.Get(ProtocolHeader); len(got) != 1 || got[0] != ProtocolVersion {
		t.Errorf("protocol header %v", got)
	}
	if got := sent.Get(SessionHeader); len(got) != 1 || got[0] != "s-1" {
		t.Errorf("session header %v", got)
	}
	err = unaryInterceptor(context.Background(), "/openenv.v1.EnvService/Describe",
		&openenvv1.DescribeRequest{}, &openenvv1.DescribeResponse{}, nil,
		func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			sent, _ = metadata.FromOutgoingContext(ctx)
			return nil
		})
	if err != nil || len(sent.Get(SessionHeader)) != 0 {
		t.Errorf("Describe: %v, headers %v", err, sent)
	}
}
