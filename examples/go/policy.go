package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
)

// randomPolicy samples uniformly from an action space, as Gymnasium's
// space.sample() does, for the kinds a numeric trainer meets: Discrete,
// Box (any dtype and shape), MultiDiscrete and MultiBinary.
type randomPolicy struct {
	kind   string
	sample func() (*openenvv1.Value, error)
}

func newRandomPolicy(space *openenvv1.Space, rng *rand.Rand) (*randomPolicy, error) {
	switch {
	case space.GetDiscrete() != nil:
		d := space.GetDiscrete()
		return &randomPolicy{"Discrete", func() (*openenvv1.Value, error) {
			return openenvgrpc.IntValue(d.GetStart() + rng.Int64N(d.GetN())), nil
		}}, nil
	case space.GetBox() != nil:
		return boxPolicy(space.GetBox(), rng)
	case space.GetMultiBinary() != nil:
		shape := space.GetMultiBinary().GetShape()
		return &randomPolicy{"MultiBinary", func() (*openenvv1.Value, error) {
			n, err := openenvgrpc.NumElements(shape)
			if err != nil {
				return nil, err
			}
			bits := make([]int8, n)
			for i := range bits {
				bits[i] = int8(rng.IntN(2))
			}
			t, err := openenvgrpc.NewTensor(bits, shape)
			return openenvgrpc.TensorValue(t), err
		}}, nil
	case space.GetMultiDiscrete() != nil:
		return multiDiscretePolicy(space.GetMultiDiscrete(), rng)
	}
	return nil, fmt.Errorf("the random policy cannot sample this action space: %v", space)
}

func multiDiscretePolicy(md *openenvv1.MultiDiscreteSpace, rng *rand.Rand) (*randomPolicy, error) {
	nvec, err := openenvgrpc.TensorFloat64s(md.GetNvec())
	if err != nil {
		return nil, fmt.Errorf("nvec: %w", err)
	}
	start := make([]float64, len(nvec))
	if md.GetStart() != nil {
		if start, err = openenvgrpc.TensorFloat64s(md.GetStart()); err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
	}
	dtype := md.GetDtype()
	if dtype == openenvv1.Dtype_DTYPE_UNSPECIFIED {
		dtype = openenvv1.Dtype_DTYPE_INT64
	}
	return &randomPolicy{"MultiDiscrete", func() (*openenvv1.Value, error) {
		values := make([]float64, len(nvec))
		for i, n := range nvec {
			values[i] = start[i] + float64(rng.Int64N(int64(n)))
		}
		t, err := openenvgrpc.TensorFromFloat64s(dtype, values, md.GetNvec().GetShape())
		return openenvgrpc.TensorValue(t), err
	}}, nil
}

// boxPolicy samples each element as Gymnasium does: uniform where both
// bounds are finite, low + Exp(1) or high - Exp(1) where one is, a
// standard normal where neither is; integers uniformly in [low, high].
func boxPolicy(box *openenvv1.BoxSpace, rng *rand.Rand) (*randomPolicy, error) {
	n, err := openenvgrpc.NumElements(box.GetShape())
	if err != nil {
		return nil, err
	}
	low, err := bound(box.GetLow(), box.GetUnboundedBelow(), n, math.Inf(-1))
	if err != nil {
		return nil, fmt.Errorf("low: %w", err)
	}
	high, err := bound(box.GetHigh(), box.GetUnboundedAbove(), n, math.Inf(1))
	if err != nil {
		return nil, fmt.Errorf("high: %w", err)
	}
	integer := box.GetDtype() != openenvv1.Dtype_DTYPE_FLOAT16 &&
		box.GetDtype() != openenvv1.Dtype_DTYPE_FLOAT32 && box.GetDtype() != openenvv1.Dtype_DTYPE_FLOAT64
	kind := fmt.Sprintf("Box(%s, %v)", box.GetDtype(), box.GetShape())
	return &randomPolicy{kind, func() (*openenvv1.Value, error) {
		values := make([]float64, n)
		for i := range values {
			lo, hi := low[i], high[i]
			if integer && !math.IsInf(hi, 0) {
				hi++ // floor of uniform [low, high + 1) covers high
			}
			var v float64
			switch {
			case !math.IsInf(lo, 0) && !math.IsInf(hi, 0):
				v = lo + rng.Float64()*(hi-lo)
			case !math.IsInf(lo, 0):
				v = lo + rng.ExpFloat64()
			case !math.IsInf(hi, 0):
				v = hi - rng.ExpFloat64()
			default:
				v = rng.NormFloat64()
			}
			if integer {
				v = math.Min(math.Floor(v), high[i])
			}
			values[i] = v
		}
		t, err := openenvgrpc.TensorFromFloat64s(box.GetDtype(), values, box.GetShape())
		return openenvgrpc.TensorValue(t), err
	}}, nil
}

// bound reads a Box bound (one scalar or one per element) as n float64s,
// with unbounded elements of integer boxes (flagged in unbounded) set to
// infinity.
func bound(t, unbounded *openenvv1.Tensor, n int, infinity float64) ([]float64, error) {
	values, err := broadcast(t, n)
	if err != nil {
		return nil, err
	}
	if unbounded != nil {
		flags, err := broadcast(unbounded, n)
		if err != nil {
			return nil, err
		}
		for i, flag := range flags {
			if flag != 0 {
				values[i] = infinity
			}
		}
	}
	return values, nil
}

func broadcast(t *openenvv1.Tensor, n int) ([]float64, error) {
	values, err := openenvgrpc.TensorFloat64s(t)
	switch {
	case err != nil:
		return nil, err
	case len(values) == n:
		return values, nil
	case len(values) == 1:
		out := make([]float64, n)
		for i := range out {
			out[i] = values[0]
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d bounds for %d elements", len(values), n)
}
