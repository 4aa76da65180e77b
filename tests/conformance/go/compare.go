package main

import (
	"fmt"
	"maps"
	"slices"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
)

// expectError checks that err is the scenario's error: its gRPC code and,
// when one is expected, its ErrorInfo reason in the contract's domain.
func expectError(err error, want expected) (*openenvgrpc.Error, error) {
	if err == nil {
		return nil, fmt.Errorf("succeeded; want code %d %s", want.Code, want.Reason)
	}
	e, ok := openenvgrpc.FromError(err)
	if !ok {
		return nil, fmt.Errorf("not a gRPC error: %v", err)
	}
	if int(e.Code()) != want.Code || e.Reason() != want.Reason {
		return nil, fmt.Errorf("got code %d reason %q (%s); want code %d reason %q",
			e.Code(), e.Reason(), e.Message(), want.Code, want.Reason)
	}
	if want.Reason != "" && e.Domain() != openenvgrpc.Domain {
		return nil, fmt.Errorf("ErrorInfo domain %q, want %q", e.Domain(), openenvgrpc.Domain)
	}
	return e, nil
}

// expectFloat32s checks that a Value holds a float32 tensor of that shape
// and those values, compared with ==.
func expectFloat32s(what string, v *openenvv1.Value, shape []int32, want []float32) error {
	t := v.GetTensor()
	if t == nil {
		return fmt.Errorf("%s is not a tensor: %v", what, v)
	}
	if t.GetDtype() != openenvv1.Dtype_DTYPE_FLOAT32 || !slices.Equal(t.GetShape(), shape) {
		return fmt.Errorf("%s is %s %v, want float32 %v", what, t.GetDtype(), t.GetShape(), shape)
	}
	got, err := openenvgrpc.DecodeTensor[float32](t)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s %v, want %v", what, got, want)
	}
	return nil
}

// expectTensor checks a tensor of dtype T against want.
func expectTensor[T openenvgrpc.Element](what string, t *openenvv1.Tensor, want []T) error {
	got, err := openenvgrpc.DecodeTensor[T](t)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !slices.Equal(got, want) || !slices.Equal(t.GetShape(), []int32{int32(len(want))}) {
		return fmt.Errorf("%s %v (shape %v), want %v", what, got, t.GetShape(), want)
	}
	return nil
}

// expectStep checks one step's answer against the scenario's.
func expectStep(resp *openenvv1.StepResponse, want step, index int64) error {
	if err := expectFloat32s("observation", resp.GetObservation(), []int32{int32(len(want.Observation))}, want.Observation); err != nil {
		return fmt.Errorf("step %d: %w", index, err)
	}
	switch {
	case resp.GetReward() != want.Reward:
		return fmt.Errorf("step %d: reward %v, want %v", index, resp.GetReward(), want.Reward)
	case resp.GetTerminated() != want.Terminated || resp.GetTruncated() != want.Truncated:
		return fmt.Errorf("step %d: terminated/truncated %v/%v, want %v/%v", index,
			resp.GetTerminated(), resp.GetTruncated(), want.Terminated, want.Truncated)
	case !maps.Equal(resp.GetRewardComponents(), want.RewardComponents):
		return fmt.Errorf("step %d: reward components %v, want %v", index, resp.GetRewardComponents(), want.RewardComponents)
	case resp.GetStepIndex() != index:
		return fmt.Errorf("step %d: step_index %d", index, resp.GetStepIndex())
	}
	return nil
}
