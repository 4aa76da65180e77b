package openenvgrpc

import (
	"regexp"
	"testing"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestValueOf(t *testing.T) {
	got, err := ValueOf(map[string]any{
		"step_seconds": 1.0, "n": 3, "tags": []any{"a", true, nil}, "obs": []float32{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := VectorTensor([]float32{1, 2})
	want := &openenvv1.Value{Kind: &openenvv1.Value_MapValue{MapValue: &openenvv1.MapValue{Entries: []*openenvv1.MapEntry{
		{Key: "n", Value: IntValue(3)},
		{Key: "obs", Value: TensorValue(obs)},
		{Key: "step_seconds", Value: DoubleValue(1)},
		{Key: "tags", Value: &openenvv1.Value{Kind: &openenvv1.Value_ListValue{ListValue: &openenvv1.ListValue{
			Values: []*openenvv1.Value{
				StringValue("a"), BoolValue(true),
				{Kind: &openenvv1.Value_NullValue{NullValue: structpb.NullValue_NULL_VALUE}},
			},
		}}}},
	}}}}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if _, err := ValueOf(struct{}{}); err == nil {
		t.Error("a struct became a Value")
	}
}

func TestNewRequestID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewRequestID(), NewRequestID()
	if !uuid.MatchString(a) || a == b {
		t.Fatalf("request ids %q %q", a, b)
	}
}
