package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// checks are the scenario's checks, in the README's order.
var checks = []struct {
	name string
	run  func(*runner) error
}{
	{"describe", (*runner).describe},
	{"trace", (*runner).trace},
	{"unary_episode", (*runner).unaryEpisode},
	{"step_after_end", (*runner).stepAfterEnd},
	{"unknown_session", (*runner).unknownSession},
	{"action_out_of_space", (*runner).actionOutOfSpace},
	{"out_of_order", (*runner).outOfOrder},
	{"retried_step", (*runner).retriedStep},
	{"request_id_twice", (*runner).requestIDTwice},
	{"deadline_retry", (*runner).deadlineRetry},
	{"stream_episode", (*runner).streamEpisode},
	{"batched", (*runner).batched},
	{"golden", (*runner).goldenFiles},
}

func (r *runner) describe() error {
	ctx, cancel := r.ctx()
	defer cancel()
	spec, err := r.client.Describe(ctx, &openenvv1.DescribeRequest{})
	if err != nil {
		return err
	}
	if spec.GetEnvName() != r.sc.EnvName {
		return fmt.Errorf("env_name %q, want %q", spec.GetEnvName(), r.sc.EnvName)
	}
	if major, _, _ := strings.Cut(spec.GetProtocolVersion(), "."); major != r.sc.ProtocolMajor {
		return fmt.Errorf("protocol_version %q, want major %s", spec.GetProtocolVersion(), r.sc.ProtocolMajor)
	}
	want := r.sc.ObservationSpace.Box
	box := spec.GetObservationSpace().GetBox()
	dtype, err := dtypeNamed(want.Dtype)
	if err != nil {
		return err
	}
	if box == nil || box.GetDtype() != dtype || !slices.Equal(box.GetShape(), want.Shape) {
		return fmt.Errorf("observation space %v, want box %s %v", spec.GetObservationSpace(), want.Dtype, want.Shape)
	}
	for _, bound := range []struct {
		name string
		t    *openenvv1.Tensor
		want float64
	}{{"low", box.GetLow(), want.Low}, {"high", box.GetHigh(), want.High}} {
		values, err := openenvgrpc.TensorFloat64s(bound.t)
		if err != nil {
			return fmt.Errorf("observation %s: %w", bound.name, err)
		}
		if len(values) == 0 || slices.ContainsFunc(values, func(v float64) bool { return v != bound.want }) {
			return fmt.Errorf("observation %s %v, want %v", bound.name, values, bound.want)
		}
	}
	discrete := spec.GetActionSpace().GetDiscrete()
	wantAction := r.sc.ActionSpace.Discrete
	if discrete == nil || discrete.GetN() != wantAction.N || discrete.GetStart() != wantAction.Start {
		return fmt.Errorf("action space %v, want discrete n=%d start=%d", spec.GetActionSpace(), wantAction.N, wantAction.Start)
	}
	return nil
}

func (r *runner) trace() error {
	ctx, cancel := r.ctx()
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", r.sc.Traceparent)
	_, err := r.client.Describe(ctx, &openenvv1.DescribeRequest{})
	return err
}

// newSession resets a new single-env session with seed 42's episode seed.
func (r *runner) newSession(ctx context.Context, options *openenvv1.MapValue) (*openenvv1.ResetResponse, error) {
	return r.client.Reset(ctx, &openenvv1.ResetRequest{
		Session: &openenvv1.ResetRequest_NewSession{NewSession: &openenvv1.NewSession{RequestId: openenvgrpc.NewRequestID()}},
		Seed:    proto.Uint64(r.sc.Episode.Seed),
		Options: options,
	})
}

func (r *runner) step(ctx context.Context, session string, action, index int64) (*openenvv1.StepResponse, error) {
	return r.client.Step(ctx, &openenvv1.StepRequest{SessionId: session, Action: openenvgrpc.IntValue(action), StepIndex: index})
}

// thenClose runs body on session, then closes the session: the check
// fails with body's error, or else with CloseSession's.
func (r *runner) thenClose(session string, body func(context.Context) error) error {
	ctx, cancel := r.ctx()
	defer cancel()
	err := body(ctx)
	if closeErr := r.closeSession(session); err == nil && closeErr != nil {
		return fmt.Errorf("close session: %w", closeErr)
	}
	return err
}

func (r *runner) closeSession(session string) error {
	ctx, cancel := r.ctx()
	defer cancel()
	_, err := r.client.CloseSession(ctx, &openenvv1.CloseSessionRequest{SessionId: session})
	return err
}

func (r *runner) unaryEpisode() error {
	ctx, cancel := r.ctx()
	defer cancel()
	reset, err := r.newSession(ctx, nil)
	if err != nil {
		return err
	}
	r.unarySession = reset.GetSessionId()
	ep := r.sc.Episode
	if err := expectFloat32s("reset observation", reset.GetObservation(), []int32{int32(len(ep.ResetObservation))}, ep.ResetObservation); err != nil {
		return err
	}
	for i, want := range ep.Steps {
		resp, err := r.step(ctx, r.unarySession, want.Action, int64(i+1))
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		if err := expectStep(resp, want, int64(i+1)); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) stepAfterEnd() error {
	if r.unarySession == "" {
		return errors.New("no session: unary_episode failed")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	_, err := r.step(ctx, r.unarySession, r.sc.Episode.Steps[0].Action, int64(len(r.sc.Episode.Steps)+1))
	if _, err := expectError(err, r.sc.Errors.StepAfterEnd); err != nil {
		return err
	}
	return r.closeSession(r.unarySession)
}

func (r *runner) unknownSession() error {
	ctx, cancel := r.ctx()
	defer cancel()
	want := r.sc.Errors.UnknownSession
	_, err := r.step(ctx, want.SessionID, r.sc.Episode.Steps[0].Action, 1)
	_, err = expectError(err, want.expected)
	return err
}

func (r *runner) actionOutOfSpace() error {
	ctx, cancel := r.ctx()
	defer cancel()
	reset, err := r.newSession(ctx, nil)
	if err != nil {
		return err
	}
	r.spaceSession = reset.GetSessionId()
	want := r.sc.Errors.ActionOutOfSpace
	_, err = r.step(ctx, r.spaceSession, want.Action, 1)
	_, err = expectError(err, want.expected)
	return err
}

func (r *runner) outOfOrder() error {
	if r.spaceSession == "" {
		return errors.New("no session: action_out_of_space failed")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	want := r.sc.Errors.OutOfOrder
	_, err := r.step(ctx, r.spaceSession, r.sc.Episode.Steps[0].Action, want.StepIndex)
	e, err := expectError(err, want.expected)
	if err != nil {
		return err
	}
	if got := e.Metadata()["step_count"]; got != want.StepCount {
		return fmt.Errorf("metadata step_count %q, want %q (metadata %v)", got, want.StepCount, e.Metadata())
	}
	return nil
}

func (r *runner) retriedStep() error {
	if r.spaceSession == "" {
		return errors.New("no session: action_out_of_space failed")
	}
	return r.thenClose(r.spaceSession, func(ctx context.Context) error {
		return r.retryFirstStep(ctx, r.spaceSession)
	})
}

// retryFirstStep sends the first step twice with step_index 1.
func (r *runner) retryFirstStep(ctx context.Context, session string) error {
	first := r.sc.Episode.Steps[0]
	var answers [2][]byte
	for i := range answers {
		resp, err := r.step(ctx, session, first.Action, 1)
		if err != nil {
			return fmt.Errorf("try %d: %w", i+1, err)
		}
		if err := expectStep(resp, first, 1); err != nil {
			return fmt.Errorf("try %d: %w", i+1, err)
		}
		if answers[i], err = (proto.MarshalOptions{Deterministic: true}).Marshal(resp); err != nil {
			return err
		}
	}
	if !bytes.Equal(answers[0], answers[1]) {
		return errors.New("the retried step answered differently")
	}
	return r.expectStepCount(ctx, session, 1)
}

func (r *runner) expectStepCount(ctx context.Context, session string, want int64) error {
	state, err := r.client.State(ctx, &openenvv1.StateRequest{SessionId: session})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if state.GetStepCount() != want {
		return fmt.Errorf("state step_count %d, want %d", state.GetStepCount(), want)
	}
	return nil
}

func (r *runner) requestIDTwice() error {
	ctx, cancel := r.ctx()
	defer cancel()
	req := &openenvv1.ResetRequest{
		Session: &openenvv1.ResetRequest_NewSession{NewSession: &openenvv1.NewSession{RequestId: openenvgrpc.NewRequestID()}},
		Seed:    proto.Uint64(r.sc.Episode.Seed),
	}
	var ids [2]string
	for i := range ids {
		resp, err := r.client.Reset(ctx, req)
		if err != nil {
			return fmt.Errorf("reset %d: %w", i+1, err)
		}
		ids[i] = resp.GetSessionId()
	}
	if ids[0] != ids[1] {
		r.closeSession(ids[1])
		r.closeSession(ids[0])
		return fmt.Errorf("two sessions %q and %q for one request_id", ids[0], ids[1])
	}
	return r.closeSession(ids[0])
}

func (r *runner) deadlineRetry() error {
	want := r.sc.Errors.DeadlineRetry
	options, err := jsonMap(want.Options)
	if err != nil {
		return err
	}
	ctx, cancel := r.ctx()
	defer cancel()
	reset, err := r.newSession(ctx, options)
	if err != nil {
		return err
	}
	return r.thenClose(reset.GetSessionId(), func(ctx context.Context) error {
		return r.stepThroughDeadline(ctx, reset.GetSessionId())
	})
}

// stepThroughDeadline sends the first step with a deadline shorter than
// the step takes, then again with a longer one: the second answers, and
// the step was applied once.
func (r *runner) stepThroughDeadline(ctx context.Context, session string) error {
	want := r.sc.Errors.DeadlineRetry
	first := r.sc.Episode.Steps[0]
	short, cancelShort := context.WithTimeout(ctx, time.Duration(want.FirstDeadlineMs)*time.Millisecond)
	_, err := r.step(short, session, first.Action, 1)
	cancelShort()
	if !isCode(err, codes.Code(want.Code)) {
		return fmt.Errorf("first try: %v, want code %d", err, want.Code)
	}
	long, cancelLong := context.WithTimeout(ctx, time.Duration(want.RetryDeadlineMs)*time.Millisecond)
	defer cancelLong()
	resp, err := r.step(long, session, first.Action, 1)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	if err := expectStep(resp, first, 1); err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	return r.expectStepCount(ctx, session, 1)
}

// isCode is true when err failed with code (whatever its ErrorInfo), for
// client-side deadlines, which carry no reason.
func isCode(err error, code codes.Code) bool {
	var e *openenvgrpc.Error
	return errors.As(err, &e) && e.Code() == code
}

func (r *runner) streamEpisode() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
	defer cancel()
	ep := r.sc.Episode
	s, reset, err := openenvgrpc.Open(ctx, r.client, &openenvv1.ResetRequest{Seed: proto.Uint64(ep.Seed)})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer s.Close()
	if err := expectFloat32s("reset observation", reset.GetObservation(), []int32{int32(len(ep.ResetObservation))}, ep.ResetObservation); err != nil {
		return err
	}
	for i, want := range ep.Steps {
		resp, err := s.Step(openenvgrpc.IntValue(want.Action))
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		if err := expectStep(resp, want, int64(i+1)); err != nil {
			return err
		}
	}
	_, err = s.Step(openenvgrpc.IntValue(ep.Steps[0].Action))
	if _, err := expectError(err, r.sc.Errors.StepAfterEnd); err != nil {
		return fmt.Errorf("step after the end: %w", err)
	}
	if _, err := s.Reset(nil); err != nil {
		return fmt.Errorf("second reset: %w", err)
	}
	_, err = s.Step(openenvgrpc.IntValue(r.sc.Errors.ActionOutOfSpace.Action))
	if _, err := expectError(err, r.sc.Errors.ActionOutOfSpace.expected); err != nil {
		return fmt.Errorf("action out of space: %w", err)
	}
	state, err := s.State()
	if err != nil {
		return fmt.Errorf("state after the errors: %w", err)
	}
	if state.GetSessionId() != s.ID() || state.GetStepCount() != 0 {
		return fmt.Errorf("state %v, want session %s at step 0", state, s.ID())
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

func (r *runner) batched() error {
	ctx, cancel := r.ctx()
	defer cancel()
	b := r.sc.Batched
	reset, err := r.client.ResetBatch(ctx, &openenvv1.ResetBatchRequest{
		Session: &openenvv1.ResetBatchRequest_NewSession{NewSession: &openenvv1.NewBatchSession{
			RequestId: openenvgrpc.NewRequestID(), NumEnvs: b.NumEnvs,
		}},
		All: &openenvv1.SubEnvReset{Seed: proto.Uint64(b.Seed)},
	})
	if err != nil {
		return err
	}
	return r.thenClose(reset.GetSessionId(), func(ctx context.Context) error {
		if err := expectFloat32s("reset observations", reset.GetObservations(), shapeOf(b.ResetObservations), slices.Concat(b.ResetObservations...)); err != nil {
			return err
		}
		return r.batchedSteps(ctx, reset.GetSessionId())
	})
}

// batchedSteps runs the scenario's batched steps on session.
func (r *runner) batchedSteps(ctx context.Context, session string) error {
	b := r.sc.Batched
	for i, want := range b.Steps {
		actions := openenvgrpc.TensorValue(openenvgrpc.VectorTensor(want.Actions))
		resp, err := r.client.StepBatch(ctx, &openenvv1.StepBatchRequest{
			SessionId: session, Actions: actions, StepIndex: int64(i + 1),
		})
		if err != nil {
			return fmt.Errorf("batched step %d: %w", i+1, err)
		}
		for _, err := range []error{
			expectFloat32s("observations", resp.GetObservations(), shapeOf(want.Observations), slices.Concat(want.Observations...)),
			expectTensor("rewards", resp.GetRewards(), want.Rewards),
			expectTensor("terminations", resp.GetTerminations(), want.Terminations),
			expectTensor("truncations", resp.GetTruncations(), want.Truncations),
		} {
			if err != nil {
				return fmt.Errorf("batched step %d: %w", i+1, err)
			}
		}
		if resp.GetStepIndex() != int64(i+1) {
			return fmt.Errorf("batched step %d: step_index %d", i+1, resp.GetStepIndex())
		}
	}
	return nil
}

func shapeOf(rows [][]float32) []int32 {
	if len(rows) == 0 {
		return []int32{0}
	}
	return []int32{int32(len(rows)), int32(len(rows[0]))}
}
