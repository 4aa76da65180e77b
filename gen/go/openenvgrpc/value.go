package openenvgrpc

import (
	"fmt"
	"sort"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// IntValue is a Value holding a plain integer: a Discrete action, for one.
func IntValue(v int64) *openenvv1.Value {
	return &openenvv1.Value{Kind: &openenvv1.Value_IntValue{IntValue: v}}
}

// DoubleValue is a Value holding a plain float.
func DoubleValue(v float64) *openenvv1.Value {
	return &openenvv1.Value{Kind: &openenvv1.Value_DoubleValue{DoubleValue: v}}
}

// BoolValue is a Value holding a plain bool.
func BoolValue(v bool) *openenvv1.Value {
	return &openenvv1.Value{Kind: &openenvv1.Value_BoolValue{BoolValue: v}}
}

// StringValue is a Value holding text (a Text action, a prompt).
func StringValue(v string) *openenvv1.Value {
	return &openenvv1.Value{Kind: &openenvv1.Value_StringValue{StringValue: v}}
}

// TensorValue is a Value holding a tensor (a Box action, for one).
func TensorValue(t *openenvv1.Tensor) *openenvv1.Value {
	return &openenvv1.Value{Kind: &openenvv1.Value_Tensor{Tensor: t}}
}

// ValueOf converts a Go value to a Value: nil, bool, int, int64, float64,
// string and []byte to their kinds; a slice of an Element type to a 1-d
// tensor; []any to a list; map[string]any to a map with its keys sorted
// (Go maps have no order; build a MapValue yourself to choose one); a
// *Value or *Tensor as it is.
func ValueOf(v any) (*openenvv1.Value, error) {
	switch x := v.(type) {
	case nil:
		return &openenvv1.Value{Kind: &openenvv1.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}}, nil
	case *openenvv1.Value:
		return x, nil
	case *openenvv1.Tensor:
		return TensorValue(x), nil
	case bool:
		return BoolValue(x), nil
	case int:
		return IntValue(int64(x)), nil
	case int64:
		return IntValue(x), nil
	case float64:
		return DoubleValue(x), nil
	case string:
		return StringValue(x), nil
	case []byte:
		return &openenvv1.Value{Kind: &openenvv1.Value_BytesValue{BytesValue: x}}, nil
	case []any:
		list := &openenvv1.ListValue{Values: make([]*openenvv1.Value, len(x))}
		for i, item := range x {
			value, err := ValueOf(item)
			if err != nil {
				return nil, err
			}
			list.Values[i] = value
		}
		return &openenvv1.Value{Kind: &openenvv1.Value_ListValue{ListValue: list}}, nil
	case map[string]any:
		m, err := MapOf(x)
		if err != nil {
			return nil, err
		}
		return &openenvv1.Value{Kind: &openenvv1.Value_MapValue{MapValue: m}}, nil
	}
	if t, ok := sliceTensor(v); ok {
		return TensorValue(t), nil
	}
	return nil, fmt.Errorf("openenvgrpc: no Value kind for %T", v)
}

// MapOf converts a Go map to a MapValue (reset options, for one), keys
// sorted.
func MapOf(m map[string]any) (*openenvv1.MapValue, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &openenvv1.MapValue{Entries: make([]*openenvv1.MapEntry, len(keys))}
	for i, k := range keys {
		value, err := ValueOf(m[k])
		if err != nil {
			return nil, fmt.Errorf("openenvgrpc: key %q: %w", k, err)
		}
		out.Entries[i] = &openenvv1.MapEntry{Key: k, Value: value}
	}
	return out, nil
}

// sliceTensor encodes a slice of an Element type as a 1-d tensor.
func sliceTensor(v any) (*openenvv1.Tensor, bool) {
	switch x := v.(type) {
	case []bool:
		return VectorTensor(x), true
	case []int8:
		return VectorTensor(x), true
	case []int16:
		return VectorTensor(x), true
	case []int32:
		return VectorTensor(x), true
	case []int64:
		return VectorTensor(x), true
	case []uint16:
		return VectorTensor(x), true
	case []uint32:
		return VectorTensor(x), true
	case []uint64:
		return VectorTensor(x), true
	case []Float16:
		return VectorTensor(x), true
	case []float32:
		return VectorTensor(x), true
	case []float64:
		return VectorTensor(x), true
	}
	return nil, false
}
