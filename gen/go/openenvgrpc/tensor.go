package openenvgrpc

import (
	"encoding/binary"
	"fmt"
	"math"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
)

// Element is a Go type whose slices map onto a Tensor dtype: bool, the
// sized integers, Float16, float32 and float64.
type Element interface {
	bool | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | Float16 | float32 | float64
}

// DtypeOf is the Tensor dtype of the Go element type T.
func DtypeOf[T Element]() openenvv1.Dtype {
	var zero T
	switch any(zero).(type) {
	case bool:
		return openenvv1.Dtype_DTYPE_BOOL
	case int8:
		return openenvv1.Dtype_DTYPE_INT8
	case int16:
		return openenvv1.Dtype_DTYPE_INT16
	case int32:
		return openenvv1.Dtype_DTYPE_INT32
	case int64:
		return openenvv1.Dtype_DTYPE_INT64
	case uint8:
		return openenvv1.Dtype_DTYPE_UINT8
	case uint16:
		return openenvv1.Dtype_DTYPE_UINT16
	case uint32:
		return openenvv1.Dtype_DTYPE_UINT32
	case uint64:
		return openenvv1.Dtype_DTYPE_UINT64
	case Float16:
		return openenvv1.Dtype_DTYPE_FLOAT16
	case float32:
		return openenvv1.Dtype_DTYPE_FLOAT32
	default:
		return openenvv1.Dtype_DTYPE_FLOAT64
	}
}

// ItemSize is the number of bytes of one element of dtype d, or 0 for
// DTYPE_UNSPECIFIED and values this package does not know.
func ItemSize(d openenvv1.Dtype) int {
	switch d {
	case openenvv1.Dtype_DTYPE_BOOL, openenvv1.Dtype_DTYPE_INT8, openenvv1.Dtype_DTYPE_UINT8:
		return 1
	case openenvv1.Dtype_DTYPE_INT16, openenvv1.Dtype_DTYPE_UINT16, openenvv1.Dtype_DTYPE_FLOAT16:
		return 2
	case openenvv1.Dtype_DTYPE_INT32, openenvv1.Dtype_DTYPE_UINT32, openenvv1.Dtype_DTYPE_FLOAT32:
		return 4
	case openenvv1.Dtype_DTYPE_INT64, openenvv1.Dtype_DTYPE_UINT64, openenvv1.Dtype_DTYPE_FLOAT64:
		return 8
	}
	return 0
}

// NumElements is the product of shape (1 for the scalar shape []).
func NumElements(shape []int32) (int, error) {
	n := 1
	for _, dim := range shape {
		if dim < 0 {
			return 0, fmt.Errorf("openenvgrpc: negative dimension in shape %v", shape)
		}
		n *= int(dim)
	}
	return n, nil
}

// NewTensor encodes values as a tensor of T's dtype and the given shape,
// whose product must equal len(values). A nil or empty shape is a scalar
// (0-d, one value), as in numpy; VectorTensor makes a 1-d tensor.
func NewTensor[T Element](values []T, shape []int32) (*openenvv1.Tensor, error) {
	n, err := NumElements(shape)
	if err != nil {
		return nil, err
	}
	if n != len(values) {
		return nil, fmt.Errorf("openenvgrpc: %d values do not fill shape %v (%d elements)", len(values), shape, n)
	}
	return &openenvv1.Tensor{
		Dtype: DtypeOf[T](),
		Shape: append([]int32{}, shape...),
		Data:  encodeLE(values),
	}, nil
}

// VectorTensor encodes values as a 1-d tensor, shape [len(values)] (a
// batch of Discrete actions, for one).
func VectorTensor[T Element](values []T) *openenvv1.Tensor {
	return &openenvv1.Tensor{Dtype: DtypeOf[T](), Shape: []int32{int32(len(values))}, Data: encodeLE(values)}
}

// ScalarTensor encodes one value as a 0-d tensor (shape []), the form of a
// numpy scalar whose dtype must survive the trip.
func ScalarTensor[T Element](value T) *openenvv1.Tensor {
	return &openenvv1.Tensor{Dtype: DtypeOf[T](), Shape: []int32{}, Data: encodeLE([]T{value})}
}

// DecodeTensor copies the tensor's elements into a new []T, in C order.
// T must be the Go type of the tensor's dtype (see DtypeOf), with one
// widening: a DTYPE_FLOAT16 tensor also decodes as []float32, exactly.
//
// The result is always a copy: the proto promises no alignment of the
// bytes, and Go may not view unaligned bytes as a []float32, so decoding
// is one pass over the data and the message can be dropped afterwards.
func DecodeTensor[T Element](t *openenvv1.Tensor) ([]T, error) {
	n, err := checkTensor(t)
	if err != nil {
		return nil, err
	}
	want := DtypeOf[T]()
	if t.GetDtype() == openenvv1.Dtype_DTYPE_FLOAT16 && want == openenvv1.Dtype_DTYPE_FLOAT32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = Float16(binary.LittleEndian.Uint16(t.GetData()[2*i:])).Float32()
		}
		return any(out).([]T), nil
	}
	if t.GetDtype() != want {
		return nil, fmt.Errorf("openenvgrpc: tensor of %s does not decode as %s", t.GetDtype(), want)
	}
	out := make([]T, n)
	decodeLE(t.GetData(), out)
	return out, nil
}

// DecodeTensorAny decodes a tensor of any dtype to the slice of its Go
// type: []bool, []int8, ..., []uint64, []float32 (for FLOAT16 and FLOAT32)
// or []float64.
func DecodeTensorAny(t *openenvv1.Tensor) (any, error) {
	switch t.GetDtype() {
	case openenvv1.Dtype_DTYPE_BOOL:
		return DecodeTensor[bool](t)
	case openenvv1.Dtype_DTYPE_INT8:
		return DecodeTensor[int8](t)
	case openenvv1.Dtype_DTYPE_INT16:
		return DecodeTensor[int16](t)
	case openenvv1.Dtype_DTYPE_INT32:
		return DecodeTensor[int32](t)
	case openenvv1.Dtype_DTYPE_INT64:
		return DecodeTensor[int64](t)
	case openenvv1.Dtype_DTYPE_UINT8:
		return DecodeTensor[uint8](t)
	case openenvv1.Dtype_DTYPE_UINT16:
		return DecodeTensor[uint16](t)
	case openenvv1.Dtype_DTYPE_UINT32:
		return DecodeTensor[uint32](t)
	case openenvv1.Dtype_DTYPE_UINT64:
		return DecodeTensor[uint64](t)
	case openenvv1.Dtype_DTYPE_FLOAT16, openenvv1.Dtype_DTYPE_FLOAT32:
		return DecodeTensor[float32](t)
	case openenvv1.Dtype_DTYPE_FLOAT64:
		return DecodeTensor[float64](t)
	}
	return nil, fmt.Errorf("openenvgrpc: unknown dtype %s", t.GetDtype())
}

// checkTensor returns the element count of a well-formed tensor: a known
// dtype and exactly product(shape) * itemsize bytes.
func checkTensor(t *openenvv1.Tensor) (int, error) {
	size := ItemSize(t.GetDtype())
	if size == 0 {
		return 0, fmt.Errorf("openenvgrpc: unknown dtype %s", t.GetDtype())
	}
	n, err := NumElements(t.GetShape())
	if err != nil {
		return 0, err
	}
	if len(t.GetData()) != n*size {
		return 0, fmt.Errorf("openenvgrpc: %s tensor of shape %v needs %d bytes, has %d",
			t.GetDtype(), t.GetShape(), n*size, len(t.GetData()))
	}
	return n, nil
}

func encodeLE[T Element](values []T) []byte {
	if h, ok := any(values).([]Float16); ok {
		out := make([]byte, 2*len(h))
		for i, v := range h {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		}
		return out
	}
	// binary.Append has a fast path, without reflection, for slices of
	// every other element type.
	out, err := binary.Append(make([]byte, 0, len(values)*ItemSize(DtypeOf[T]())), binary.LittleEndian, values)
	if err != nil {
		panic(err) // unreachable: every Element has a fixed size
	}
	return out
}

func decodeLE[T Element](data []byte, out []T) {
	if h, ok := any(out).([]Float16); ok {
		for i := range h {
			h[i] = Float16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		return
	}
	if _, err := binary.Decode(data, binary.LittleEndian, out); err != nil {
		panic(err) // unreachable: checkTensor sized data for out
	}
}

// TensorFloat64s converts a tensor of any dtype to float64, for code that
// reads bounds or observations without caring about their type. bool is
// 0 or 1; int64 and uint64 beyond 2^53 round to the nearest float64.
func TensorFloat64s(t *openenvv1.Tensor) ([]float64, error) {
	values, err := DecodeTensorAny(t)
	if err != nil {
		return nil, err
	}
	switch v := values.(type) {
	case []bool:
		out := make([]float64, len(v))
		for i, b := range v {
			if b {
				out[i] = 1
			}
		}
		return out, nil
	case []int8:
		return widen(v), nil
	case []int16:
		return widen(v), nil
	case []int32:
		return widen(v), nil
	case []int64:
		return widen(v), nil
	case []uint8:
		return widen(v), nil
	case []uint16:
		return widen(v), nil
	case []uint32:
		return widen(v), nil
	case []uint64:
		return widen(v), nil
	case []float32:
		return widen(v), nil
	default:
		return v.([]float64), nil
	}
}

func widen[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TensorFromFloat64s encodes values as a tensor of dtype d, converting each
// one: floats round to the dtype's precision, integers truncate toward
// zero and saturate at the dtype's range (NaN becomes 0), bool is true
// for any non-zero value. shape is as for NewTensor.
func TensorFromFloat64s(d openenvv1.Dtype, values []float64, shape []int32) (*openenvv1.Tensor, error) {
	switch d {
	case openenvv1.Dtype_DTYPE_BOOL:
		out := make([]bool, len(values))
		for i, v := range values {
			out[i] = v != 0
		}
		return NewTensor(out, shape)
	case openenvv1.Dtype_DTYPE_INT8:
		return NewTensor(narrowInt[int8](values, math.MinInt8, math.MaxInt8), shape)
	case openenvv1.Dtype_DTYPE_INT16:
		return NewTensor(narrowInt[int16](values, math.MinInt16, math.MaxInt16), shape)
	case openenvv1.Dtype_DTYPE_INT32:
		return NewTensor(narrowInt[int32](values, math.MinInt32, math.MaxInt32), shape)
	case openenvv1.Dtype_DTYPE_INT64:
		return NewTensor(narrowInt[int64](values, math.MinInt64, math.MaxInt64), shape)
	case openenvv1.Dtype_DTYPE_UINT8:
		return NewTensor(narrowInt[uint8](values, 0, math.MaxUint8), shape)
	case openenvv1.Dtype_DTYPE_UINT16:
		return NewTensor(narrowInt[uint16](values, 0, math.MaxUint16), shape)
	case openenvv1.Dtype_DTYPE_UINT32:
		return NewTensor(narrowInt[uint32](values, 0, math.MaxUint32), shape)
	case openenvv1.Dtype_DTYPE_UINT64:
		return NewTensor(narrowInt[uint64](values, 0, math.MaxUint64), shape)
	case openenvv1.Dtype_DTYPE_FLOAT16:
		out := make([]Float16, len(values))
		for i, v := range values {
			out[i] = Float16FromFloat32(float32(v))
		}
		return NewTensor(out, shape)
	case openenvv1.Dtype_DTYPE_FLOAT32:
		out := make([]float32, len(values))
		for i, v := range values {
			out[i] = float32(v)
		}
		return NewTensor(out, shape)
	case openenvv1.Dtype_DTYPE_FLOAT64:
		return NewTensor(append([]float64(nil), values...), shape)
	}
	return nil, fmt.Errorf("openenvgrpc: unknown dtype %s", d)
}

// narrowInt converts to an integer type, saturating at [lo, hi]: Go
// leaves out-of-range float-to-int conversions undefined.
func narrowInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](values []float64, lo, hi T) []T {
	out := make([]T, len(values))
	for i, v := range values {
		switch {
		case math.IsNaN(v):
			out[i] = 0
		case v <= float64(lo):
			out[i] = lo
		case v >= float64(hi): // float64(hi) may round up (2^63, 2^64): still saturates
			out[i] = hi
		default:
			out[i] = T(v)
		}
	}
	return out
}
