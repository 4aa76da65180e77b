package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"github.com/openenv-grpc/openenv-grpc/gen/go/openenvgrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// goldenEntry is one entry of golden/golden.json.
type goldenEntry struct {
	File   string `json:"file"`
	Type   string `json:"type"`
	Tensor *struct {
		Dtype  string  `json:"dtype"`
		Shape  []int32 `json:"shape"`
		Values []any   `json:"values"` // numbers, bools, or strings (big integers, infinities)
	} `json:"tensor"`
}

// goldenFiles decodes every golden message as its type, re-encodes it to
// the same bytes, and decodes each tensor through openenvgrpc.
func (r *runner) goldenFiles() error {
	index, err := os.ReadFile(filepath.Join(r.golden, "golden.json"))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(index))
	dec.UseNumber() // int64 values are exact, never float64
	var entries []goldenEntry
	if err := dec.Decode(&entries); err != nil {
		return fmt.Errorf("golden.json: %w", err)
	}
	if len(entries) == 0 {
		return fmt.Errorf("golden.json lists no files")
	}
	for _, entry := range entries {
		if err := checkGolden(r.golden, entry); err != nil {
			return fmt.Errorf("%s: %w", entry.File, err)
		}
	}
	return nil
}

func checkGolden(dir string, entry goldenEntry) error {
	data, err := os.ReadFile(filepath.Join(dir, entry.File))
	if err != nil {
		return err
	}
	kind, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(entry.Type))
	if err != nil {
		return fmt.Errorf("type %s: %w", entry.Type, err)
	}
	msg := kind.New().Interface()
	if err := proto.Unmarshal(data, msg); err != nil {
		return err
	}
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("re-encodes to other bytes:\n got %x\nwant %x", again, data)
	}
	if entry.Tensor == nil {
		return nil
	}
	var tensor *openenvv1.Tensor
	switch m := msg.(type) {
	case *openenvv1.Tensor:
		tensor = m
	case *openenvv1.Value:
		tensor = m.GetTensor()
	}
	want := entry.Tensor
	dtype, err := dtypeNamed(want.Dtype)
	if err != nil {
		return err
	}
	if tensor.GetDtype() != dtype || !slices.Equal(tensor.GetShape(), want.Shape) {
		return fmt.Errorf("tensor %s %v, want %s %v", tensor.GetDtype(), tensor.GetShape(), dtype, want.Shape)
	}
	values, err := openenvgrpc.DecodeTensorAny(tensor)
	if err != nil {
		return err
	}
	got := reflect.ValueOf(values)
	if got.Len() != len(want.Values) {
		return fmt.Errorf("%d values, want %d", got.Len(), len(want.Values))
	}
	for i, w := range want.Values {
		if ok, err := sameElement(got.Index(i).Interface(), w); err != nil || !ok {
			return fmt.Errorf("value %d is %v, want %v (%v)", i, got.Index(i).Interface(), w, err)
		}
	}
	return nil
}

// sameElement compares a decoded element with its JSON: integers exactly
// (strings beyond 2^53), floats with == in the element's precision
// ("Infinity", "-Infinity" and "NaN" as strings).
func sameElement(got, want any) (bool, error) {
	text := fmt.Sprint(want) // json.Number or string
	switch g := got.(type) {
	case bool:
		w, ok := want.(bool)
		return ok && g == w, nil
	case int8, int16, int32, int64:
		w, err := strconv.ParseInt(text, 10, 64)
		return err == nil && reflect.ValueOf(g).Int() == w, err
	case uint8, uint16, uint32, uint64:
		w, err := strconv.ParseUint(text, 10, 64)
		return err == nil && reflect.ValueOf(g).Uint() == w, err
	case float32:
		w, err := parseFloat(text)
		return err == nil && (g == float32(w) || g != g && w != w), err
	case float64:
		w, err := parseFloat(text)
		return err == nil && (g == w || g != g && w != w), err
	}
	return false, fmt.Errorf("element type %T", got)
}

func parseFloat(text string) (float64, error) {
	switch text {
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(text, 64)
}
