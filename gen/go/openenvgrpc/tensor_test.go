package openenvgrpc

import (
	"bytes"
	"math"
	"slices"
	"testing"

	openenvv1 "github.com/openenv-grpc/openenv-grpc/gen/go/openenv/v1"
	"google.golang.org/protobuf/proto"
)

// roundTrip encodes values with shape, checks dtype, shape and byte count,
// survives a trip through the wire format, and decodes back to values.
func roundTrip[T Element](t *testing.T, want openenvv1.Dtype, values []T, shape ...int32) {
	t.Helper()
	tensor, err := NewTensor(values, shape)
	if err != nil {
		t.Fatalf("%s: NewTensor: %v", want, err)
	}
	if tensor.GetDtype() != want {
		t.Fatalf("dtype %s, want %s", tensor.GetDtype(), want)
	}
	if len(tensor.GetData()) != len(values)*ItemSize(want) {
		t.Fatalf("%s: %d bytes for %d values", want, len(tensor.GetData()), len(values))
	}
	wire, err := proto.Marshal(tensor)
	if err != nil {
		t.Fatal(err)
	}
	var back openenvv1.Tensor
	if err := proto.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTensor[T](&back)
	if err != nil {
		t.Fatalf("%s: DecodeTensor: %v", want, err)
	}
	if !slices.Equal(got, values) {
		t.Fatalf("%s: got %v, want %v", want, got, values)
	}
	if !slices.Equal(back.GetShape(), shape) {
		t.Fatalf("%s: shape %v, want %v", want, back.GetShape(), shape)
	}
}

func TestRoundTripEveryDtype(t *testing.T) {
	roundTrip(t, openenvv1.Dtype_DTYPE_BOOL, []bool{true, false, true, true, false, false}, 2, 3)
	roundTrip(t, openenvv1.Dtype_DTYPE_INT8, []int8{math.MinInt8, -1, 0, 1, math.MaxInt8, 7}, 3, 2)
	roundTrip(t, openenvv1.Dtype_DTYPE_INT16, []int16{math.MinInt16, -1, 0, math.MaxInt16}, 4)
	roundTrip(t, openenvv1.Dtype_DTYPE_INT32, []int32{math.MinInt32, -1, 0, math.MaxInt32}, 2, 1, 2)
	roundTrip(t, openenvv1.Dtype_DTYPE_INT64, []int64{math.MinInt64, -1, 0, math.MaxInt64}, 2, 2)
	roundTrip(t, openenvv1.Dtype_DTYPE_UINT8, []uint8{0, 1, 128, 255}, 4)
	roundTrip(t, openenvv1.Dtype_DTYPE_UINT16, []uint16{0, 1, 0x8000, math.MaxUint16}, 4)
	roundTrip(t, openenvv1.Dtype_DTYPE_UINT32, []uint32{0, 1, 0x80000000, math.MaxUint32}, 1, 4)
	roundTrip(t, openenvv1.Dtype_DTYPE_UINT64, []uint64{0, 1, 1 << 63, math.MaxUint64}, 4)
	roundTrip(t, openenvv1.Dtype_DTYPE_FLOAT16, []Float16{0x0000, 0x8000, 0x3c00, 0x7bff, 0x0001, 0x7c00, 0xfc00}, 7)
	roundTrip(t, openenvv1.Dtype_DTYPE_FLOAT32, []float32{0, -1.5, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1))}, 5)
	roundTrip(t, openenvv1.Dtype_DTYPE_FLOAT64, []float64{0, -1.5, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1)}, 5, 1)
	roundTrip(t, openenvv1.Dtype_DTYPE_FLOAT32, []float32{}, 0, 3)
	roundTrip(t, openenvv1.Dtype_DTYPE_INT32, []int32{-7})
}

func TestLittleEndianLayout(t *testing.T) {
	tensor := VectorTensor([]int32{1, -2})
	want := []byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}
	if !bytes.Equal(tensor.GetData(), want) {
		t.Fatalf("bytes %x, want %x", tensor.GetData(), want)
	}
	f := ScalarTensor(float32(1))
	if !bytes.Equal(f.GetData(), []byte{0, 0, 0x80, 0x3f}) {
		t.Fatalf("float32 1 as %x", f.GetData())
	}
}

func TestDecodeUnalignedBytes(t *testing.T) {
	// The proto promises no alignment: decode from an odd offset.
	buf := make([]byte, 1+3*8)
	orig := VectorTensor([]float64{1.25, -2, 1e300})
	copy(buf[1:], orig.GetData())
	got, err := DecodeTensor[float64](&openenvv1.Tensor{
		Dtype: openenvv1.Dtype_DTYPE_FLOAT64, Shape: []int32{3}, Data: buf[1:],
	})
	if err != nil || !slices.Equal(got, []float64{1.25, -2, 1e300}) {
		t.Fatalf("got %v, %v", got, err)
	}
	buf[1] ^= 0xff // the result is a copy, not a view of the message
	if got[0] != 1.25 {
		t.Fatal("decoded slice aliases the message bytes")
	}
}

func TestScalarTensor(t *testing.T) {
	s := ScalarTensor(int64(-7))
	if s.GetShape() == nil || len(s.GetShape()) != 0 {
		t.Fatalf("scalar shape %v", s.GetShape())
	}
	got, err := DecodeTensor[int64](s)
	if err != nil || !slices.Equal(got, []int64{-7}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestMalformedTensors(t *testing.T) {
	if _, err := NewTensor([]float32{1, 2, 3}, []int32{2, 2}); err == nil {
		t.Error("3 values filled shape [2 2]")
	}
	if _, err := NewTensor([]float32{1, 2}, nil); err == nil {
		t.Error("2 values filled the scalar shape []")
	}
	if _, err := NewTensor([]float32{}, []int32{-1}); err == nil {
		t.Error("negative dimension accepted")
	}
	short := &openenvv1.Tensor{Dtype: openenvv1.Dtype_DTYPE_INT32, Shape: []int32{2}, Data: make([]byte, 7)}
	if _, err := DecodeTensor[int32](short); err == nil {
		t.Error("7 bytes decoded as 2 int32")
	}
	unknown := &openenvv1.Tensor{Shape: []int32{1}, Data: []byte{0}}
	if _, err := DecodeTensorAny(unknown); err == nil {
		t.Error("DTYPE_UNSPECIFIED decoded")
	}
	wrong := VectorTensor([]int64{1})
	if _, err := DecodeTensor[int32](wrong); err == nil {
		t.Error("int64 tensor decoded as int32")
	}
}

func TestFloat16DecodesToFloat32(t *testing.T) {
	tensor := VectorTensor([]Float16{0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00})
	got, err := DecodeTensor[float32](tensor)
	want := []float32{1, -2, 1.0 / (1 << 24), 65504, float32(math.Inf(1))}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	anyValues, err := DecodeTensorAny(tensor)
	if err != nil || !slices.Equal(anyValues.([]float32), want) {
		t.Fatalf("DecodeTensorAny: %v, %v", anyValues, err)
	}
}

func TestFloat16EveryValueRoundTrips(t *testing.T) {
	for bits := 0; bits <= 0xffff; bits++ {
		h := Float16(bits)
		f := h.Float32()
		back := Float16FromFloat32(f)
		if f != f { // NaN: stays a NaN of the same sign
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != h&0x8000 {
				t.Fatalf("NaN %#04x came back as %#04x", bits, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %v -> %#04x", bits, f, back)
		}
	}
}

func TestFloat16Rounding(t *testing.T) {
	cases := []struct {
		in   float32
		want Float16
	}{
		{1 + 1.0/2048, 0x3c00},             // a tie rounds to even (down)
		{1 + 3.0/2048, 0x3c02},             // a tie rounds to even (up)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // above the tie rounds up
		{65504, 0x7bff},                    // the largest half
		{65519, 0x7bff},                    // just below the rounding edge
		{65520, 0x7c00},                    // rounds to infinity
		{1e10, 0x7c00},
		{-1e10, 0xfc00},
		{1.0 / (1 << 25), 0x0000},                  // half the smallest subnormal: tie to zero
		{1.5 / (1 << 25), 0x0001},                  // above it: the smallest subnormal
		{3.0 / (1 << 25), 0x0002},                  // 1.5 subnormal steps: tie to even (2)
		{1.0 / (1 << 14) * (1 - 1.0/4096), 0x0400}, // rounds up into the smallest normal
		{1e-10, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
	}
	for _, c := range cases {
		if got := Float16FromFloat32(c.in); got != c.want {
			t.Errorf("Float16FromFloat32(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

func TestFloat64Conversions(t *testing.T) {
	for _, dtype := range []openenvv1.Dtype{
		openenvv1.Dtype_DTYPE_BOOL, openenvv1.Dtype_DTYPE_INT8, openenvv1.Dtype_DTYPE_INT16,
		openenvv1.Dtype_DTYPE_INT32, openenvv1.Dtype_DTYPE_INT64, openenvv1.Dtype_DTYPE_UINT8,
		openenvv1.Dtype_DTYPE_UINT16, openenvv1.Dtype_DTYPE_UINT32, openenvv1.Dtype_DTYPE_UINT64,
		openenvv1.Dtype_DTYPE_FLOAT16, openenvv1.Dtype_DTYPE_FLOAT32, openenvv1.Dtype_DTYPE_FLOAT64,
	} {
		tensor, err := TensorFromFloat64s(dtype, []float64{0, 1, 0, 1}, []int32{2, 2})
		if err != nil || tensor.GetDtype() != dtype {
			t.Fatalf("%s: %v", dtype, err)
		}
		got, err := TensorFloat64s(tensor)
		if err != nil || !slices.Equal(got, []float64{0, 1, 0, 1}) {
			t.Fatalf("%s: got %v, %v", dtype, got, err)
		}
	}
	sat, _ := TensorFromFloat64s(openenvv1.Dtype_DTYPE_INT8, []float64{-1000, 1000, 2.9, -2.9, math.NaN()}, []int32{5})
	if got, _ := DecodeTensor[int8](sat); !slices.Equal(got, []int8{-128, 127, 2, -2, 0}) {
		t.Errorf("int8 saturation: %v", got)
	}
	big, _ := TensorFromFloat64s(openenvv1.Dtype_DTYPE_UINT64, []float64{1e30, -1}, []int32{2})
	if got, _ := DecodeTensor[uint64](big); !slices.Equal(got, []uint64{math.MaxUint64, 0}) {
		t.Errorf("uint64 saturation: %v", got)
	}
	i64, _ := TensorFromFloat64s(openenvv1.Dtype_DTYPE_INT64, []float64{1e30, -1e30}, []int32{2})
	if got, _ := DecodeTensor[int64](i64); !slices.Equal(got, []int64{math.MaxInt64, math.MinInt64}) {
		t.Errorf("int64 saturation: %v", got)
	}
}
