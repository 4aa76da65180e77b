package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
)

// scenario is tests/conformance/scenario.json.
type scenario struct {
	ProtocolMajor    string `json:"protocol_major"`
	EnvName          string `json:"env_name"`
	ObservationSpace struct {
		Box struct {
			Dtype string  `json:"dtype"`
			Shape []int32 `json:"shape"`
			Low   float64 `json:"low"`
			High  float64 `json:"high"`
		} `json:"box"`
	} `json:"observation_space"`
	ActionSpace struct {
		Discrete struct {
			N     int64 `json:"n"`
			Start int64 `json:"start"`
		} `json:"discrete"`
	} `json:"action_space"`
	Traceparent string `json:"traceparent"`
	Episode     struct {
		Seed             uint64    `json:"seed"`
		ResetObservation []float32 `json:"reset_observation"`
		Steps            []step    `json:"steps"`
	} `json:"episode"`
	Batched struct {
		NumEnvs           int32         `json:"num_envs"`
		Seed              uint64        `json:"seed"`
		ResetObservations [][]float32   `json:"reset_observations"`
		Steps             []batchedStep `json:"steps"`
	} `json:"batched"`
	Errors struct {
		UnknownSession struct {
			SessionID string `json:"session_id"`
			expected
		} `json:"unknown_session"`
		ActionOutOfSpace struct {
			Action int64 `json:"action"`
			expected
		} `json:"action_out_of_space"`
		StepAfterEnd expected `json:"step_after_end"`
		OutOfOrder   struct {
			StepIndex int64  `json:"step_index"`
			StepCount string `json:"step_count"`
			expected
		} `json:"out_of_order"`
		DeadlineRetry struct {
			Options         map[string]any `json:"options"`
			FirstDeadlineMs int64          `json:"first_deadline_ms"`
			RetryDeadlineMs int64          `json:"retry_deadline_ms"`
			Code            int            `json:"code"`
		} `json:"deadline_retry"`
	} `json:"errors"`
}

type step struct {
	Action           int64              `json:"action"`
	Observation      []float32          `json:"observation"`
	Reward           float64            `json:"reward"`
	Terminated       bool               `json:"terminated"`
	Truncated        bool               `json:"truncated"`
	RewardComponents map[string]float64 `json:"reward_components"`
}

type batchedStep struct {
	Actions      []int64     `json:"actions"`
	Observations [][]float32 `json:"observations"`
	Rewards      []float64   `json:"rewards"`
	Terminations []bool      `json:"terminations"`
	Truncations  []bool      `json:"truncations"`
}

// expected is an error the scenario expects: a google.rpc.Code number and
// an ErrorInfo reason.
type expected struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

func loadScenario(path string) (*scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber() // so options keep 1.0 a float and 1 an integer
	sc := &scenario{}
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// dtypeNamed maps the scenario's numpy dtype names ("float32") to Dtype.
func dtypeNamed(name string) (openenvv1.Dtype, error) {
	d, ok := openenvv1.Dtype_value["DTYPE_"+strings.ToUpper(name)]
	if !ok {
		return 0, fmt.Errorf("unknown dtype %q", name)
	}
	return openenvv1.Dtype(d), nil
}

// jsonMap converts decoded JSON (numbers as json.Number) to a MapValue the
// way Python's codec does: numbers with a fraction or exponent are floats,
// others integers.
func jsonMap(m map[string]any) (*openenvv1.MapValue, error) {
	plain := make(map[string]any, len(m))
	for k, v := range m {
		plain[k] = jsonPlain(v)
	}
	return openenvgrpc.MapOf(plain)
}

func jsonPlain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && !strings.ContainsAny(x.String(), ".eE") {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = jsonPlain(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = jsonPlain(item)
		}
		return out
	}
	return v
}
