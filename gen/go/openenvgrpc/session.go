package openenvgrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Session is one environment session driven over one StepStream: one
// message each way per call, and no session routing needed behind a load
// balancer. It numbers its steps (step_index) so that the server applies
// each once, and creates its session with a fresh request_id.
//
// A request the server refuses returns an *Error and the session goes on;
// an error that ends the stream (the session was closed elsewhere, the
// server stopped) is returned by that call and every later one. Calls are
// serialised: a Session may be shared between goroutines, but it sends one
// request at a time. A stream has no per-request deadline; the context
// given to Open bounds the whole stream.
type Session struct {
	mu        sync.Mutex
	stream    grpc.BidiStreamingClient[openenvv1.StepStreamRequest, openenvv1.StepStreamResponse]
	cancel    context.CancelFunc
	id        string
	seq       uint64
	stepIndex int64
	broken    error
	closed    bool
}

// Open opens a stream and creates its single-env session with reset
// (nil: no seed, no options), filling in new_session with a fresh request
// id. The stream's session is closed by Close.
func Open(ctx context.Context, client openenvv1.EnvServiceClient, reset *openenvv1.ResetRequest,
	opts ...grpc.CallOption,
) (*Session, *openenvv1.ResetResponse, error) {
	req := cloneOr(reset)
	req.Session = &openenvv1.ResetRequest_NewSession{NewSession: &openenvv1.NewSession{RequestId: NewRequestID()}}
	s, err := openStream(ctx, client, opts)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.Reset(req)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, resp, nil
}

// OpenBatch opens a stream and creates its batched session of numEnvs
// sub-environments, resetting all of them with reset (nil: defaults; its
// env_ids must be empty). autoreset is the session's AutoresetMode.
func OpenBatch(ctx context.Context, client openenvv1.EnvServiceClient, numEnvs int32,
	autoreset openenvv1.AutoresetMode, reset *openenvv1.ResetBatchRequest, opts ...grpc.CallOption,
) (*Session, *openenvv1.ResetBatchResponse, error) {
	req := cloneOr(reset)
	req.Session = &openenvv1.ResetBatchRequest_NewSession{NewSession: &openenvv1.NewBatchSession{
		RequestId: NewRequestID(), NumEnvs: numEnvs, AutoresetMode: autoreset,
	}}
	s, err := openStream(ctx, client, opts)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.ResetBatch(req)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, resp, nil
}

// Attach opens a stream bound to a session created earlier (by a unary
// Reset, say). Closing the stream leaves that session open.
func Attach(ctx context.Context, client openenvv1.EnvServiceClient, sessionID string,
	opts ...grpc.CallOption,
) (*Session, *openenvv1.StateResponse, error) {
	s, err := openStream(ctx, client, opts)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.roundTrip(&openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_AttachRequest{
		AttachRequest: &openenvv1.AttachRequest{SessionId: sessionID},
	}})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	state := resp.GetAttachResponse().GetState()
	s.id, s.stepIndex = sessionID, state.GetStepCount()
	return s, state, nil
}

func openStream(ctx context.Context, client openenvv1.EnvServiceClient, opts []grpc.CallOption) (*Session, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := client.StepStream(ctx, opts...)
	if err != nil {
		cancel()
		return nil, asError(err)
	}
	return &Session{stream: stream, cancel: cancel}, nil
}

// ID is the session's id (empty until the first reset has answered).
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// StepIndex is the step_index of the last step applied in the episode (0
// right after a reset); the next Step or StepBatch sends StepIndex()+1.
func (s *Session) StepIndex() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stepIndex
}

// Reset starts a new episode of the stream's session; req (nil: defaults)
// gives the seed, options and task. Its session oneof is left as given:
// unset means the stream's own session.
func (s *Session) Reset(req *openenvv1.ResetRequest) (*openenvv1.ResetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.roundTrip(&openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_ResetRequest{
		ResetRequest: cloneOr(req),
	}})
	if err != nil {
		return nil, err
	}
	reset := resp.GetResetResponse()
	s.id, s.stepIndex = reset.GetSessionId(), 0
	return reset, nil
}

// Step applies action with the next step_index.
func (s *Session) Step(action *openenvv1.Value) (*openenvv1.StepResponse, error) {
	return stepNext(s, func(index int64) *openenvv1.StepStreamRequest {
		return &openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_StepRequest{
			StepRequest: &openenvv1.StepRequest{Action: action, StepIndex: index},
		}}
	}, (*openenvv1.StepStreamResponse).GetStepResponse)
}

// ResetBatch resets sub-environments of the stream's batched session (all
// of them when req.env_ids is empty, which also restarts step_index).
func (s *Session) ResetBatch(req *openenvv1.ResetBatchRequest) (*openenvv1.ResetBatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.roundTrip(&openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_ResetBatchRequest{
		ResetBatchRequest: cloneOr(req),
	}})
	if err != nil {
		return nil, err
	}
	reset := resp.GetResetBatchResponse()
	s.id = reset.GetSessionId()
	if len(req.GetEnvIds()) == 0 {
		s.stepIndex = 0
	}
	return reset, nil
}

// StepBatch steps the sub-environments envIDs (none: all of them) with
// actions in the batched form of the action space (for Discrete, an int64
// tensor of shape [len]), with the next step_index.
func (s *Session) StepBatch(actions *openenvv1.Value, envIDs ...int32) (*openenvv1.StepBatchResponse, error) {
	return stepNext(s, func(index int64) *openenvv1.StepStreamRequest {
		return &openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_StepBatchRequest{
			StepBatchRequest: &openenvv1.StepBatchRequest{Actions: actions, EnvIds: envIDs, StepIndex: index},
		}}
	}, (*openenvv1.StepStreamResponse).GetStepBatchResponse)
}

// State reads where the session stands.
func (s *Session) State() (*openenvv1.StateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.roundTrip(&openenvv1.StepStreamRequest{Request: &openenvv1.StepStreamRequest_StateRequest{
		StateRequest: &openenvv1.StateRequest{},
	}})
	if err != nil {
		return nil, err
	}
	return resp.GetStateResponse(), nil
}

// Close half-closes the stream and reads it to its end, which closes a
// session the stream created (an attached one stays open). It returns the
// stream's final error, if it ended with one; closing twice is a no-op.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	defer s.cancel()
	if s.broken != nil {
		return nil // already ended; the error went to the call that met it
	}
	if err := s.stream.CloseSend(); err != nil {
		return asError(err)
	}
	for {
		if _, err := s.stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return asError(err)
		}
	}
}

// stepNext sends the request built for the next step index and, on
// success, moves the session's index to the one the server answered.
func stepNext[T interface{ GetStepIndex() int64 }](s *Session, build func(int64) *openenvv1.StepStreamRequest,
	get func(*openenvv1.StepStreamResponse) T,
) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.roundTrip(build(s.stepIndex + 1))
	if err != nil {
		return zero, err
	}
	out := get(resp)
	s.stepIndex = out.GetStepIndex()
	return out, nil
}

// roundTrip sends one request and reads its answer, with s.mu held: an
// in-band error comes back as an *Error and leaves the stream usable.
func (s *Session) roundTrip(req *openenvv1.StepStreamRequest) (*openenvv1.StepStreamResponse, error) {
	switch {
	case s.closed:
		return nil, errors.New("openenvgrpc: session is closed")
	case s.broken != nil:
		return nil, s.broken
	}
	s.seq++
	req.Seq = s.seq
	if err := s.stream.Send(req); err != nil {
		// io.EOF: the stream has ended, and Recv says how.
		if !errors.Is(err, io.EOF) {
			s.broken = asError(err)
			return nil, s.broken
		}
	}
	resp, err := s.stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("openenvgrpc: the server ended the stream")
		}
		s.broken = asError(err)
		return nil, s.broken
	}
	if resp.GetSeq() != req.Seq {
		s.broken = fmt.Errorf("openenvgrpc: answer to seq %d, expected %d", resp.GetSeq(), req.Seq)
		return nil, s.broken
	}
	if e := FromStatus(resp.GetError()); e != nil {
		return nil, e
	}
	return resp, nil
}

// asError turns an error carrying a gRPC status into an *Error.
func asError(err error) error {
	if e, ok := FromError(err); ok {
		return e
	}
	return err
}

// cloneOr copies req (so the caller's message is never changed), or makes
// an empty one.
func cloneOr[T proto.Message](req T) T {
	var zero T
	if any(req) == any(zero) {
		return zero.ProtoReflect().New().Interface().(T)
	}
	return proto.Clone(req).(T)
}
