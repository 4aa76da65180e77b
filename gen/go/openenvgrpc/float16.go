package openenvgrpc

import "math"

// Float16 is an IEEE 754 half-precision number, held as its bit pattern.
//
// Go has no native half type, so DTYPE_FLOAT16 tensors decode to Float16
// (the raw bits, lossless) through DecodeTensor[Float16], or to float32 (the
// nearest native type, which holds every half exactly) through
// DecodeTensor[float32]. Encoding from float32 rounds to the nearest half,
// ties to even, as numpy's float16 cast does.
type Float16 uint16

// Float32 returns the half's exact value as a float32.
func (h Float16) Float32() float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN (the payload moves along)
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant * 2^-24, exact in float32
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	default: // rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// Float16FromFloat32 rounds f to the nearest half, ties to even. Values
// beyond the half range become infinities; NaN stays NaN.
func Float16FromFloat32(f float32) Float16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int32(bits>>23) & 0xff
	mant := bits & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return Float16(sign | 0x7c00)
		}
		return Float16(sign | 0x7e00 | uint16(mant>>13)) // quiet NaN
	}
	e := exp - 127 + 15 // the half's biased exponent
	switch {
	case e >= 0x1f:
		return Float16(sign | 0x7c00)
	case e <= 0: // a subnormal half, or zero
		if e < -10 {
			return Float16(sign) // below half the smallest subnormal
		}
		full := mant | 0x800000 // the implicit leading one
		return Float16(sign | uint16(roundShift(full, uint32(14-e))))
	default:
		// A carry out of the mantissa rounds up into the exponent, and
		// from the largest finite half into infinity, as it should.
		return Float16(sign | uint16(roundShift(uint32(e)<<23|mant, 13)))
	}
}

// roundShift shifts v right by n bits, rounding to nearest, ties to even.
func roundShift(v, n uint32) uint32 {
	out := v >> n
	rest := v & (1<<n - 1)
	half := uint32(1) << (n - 1)
	if rest > half || (rest == half && out&1 == 1) {
		out++
	}
	return out
}
