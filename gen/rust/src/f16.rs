//! IEEE 754 half precision, which stable Rust has no type for.
//!
//! A `DTYPE_FLOAT16` tensor therefore reads as `f32` (every half is exactly
//! an `f32`, so nothing is lost) and is written from `f32`, rounded to the
//! nearest half, ties to even, as numpy's `astype(float16)` does: values
//! beyond the half range become infinities, tiny ones subnormals or zero.

/// The `f32` equal to a half-precision value given by its bits (exact).
pub fn f16_bits_to_f32(half: u16) -> f32 {
    let negative = half & 0x8000 != 0;
    let exponent = u32::from((half >> 10) & 0x1f);
    let mantissa = u32::from(half & 0x3ff);
    let sign = if negative { 0x8000_0000 } else { 0 };
    match exponent {
        0 => {
            // Zero or subnormal: mantissa * 2^-24, exact in f32.
            let magnitude = mantissa as f32 / 16_777_216.0;
            if negative { -magnitude } else { magnitude }
        }
        // Infinity or NaN (the payload is kept).
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
        _ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
    }
}

/// The bits of the half-precision value nearest to `value` (ties to even).
pub fn f32_to_f16_bits(value: f32) -> u16 {
    let bits = value.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = ((bits >> 23) & 0xff) as i32;
    let mantissa = bits & 0x7f_ffff;
    if exponent == 0xff {
        // Infinity stays infinity; a NaN stays a (quiet) NaN.
        let nan = if mantissa != 0 {
            0x200 | (mantissa >> 13) as u16
        } else {
            0
        };
        return sign | 0x7c00 | nan;
    }
    let half_exponent = exponent - 127 + 15;
    if half_exponent >= 0x1f {
        return sign | 0x7c00; // too large: infinity
    }
    if half_exponent <= 0 {
        if half_exponent < -10 {
            return sign; // below half the smallest subnormal: zero
        }
        // A subnormal half: shift the full significand into place, then round.
        let significand = mantissa | 0x80_0000;
        let shift = (14 - half_exponent) as u32;
        let half = round_even(significand >> shift, significand, shift);
        return sign | half as u16; // a carry into the exponent is the right answer
    }
    let half = round_even(
        ((half_exponent as u32) << 10) | (mantissa >> 13),
        mantissa,
        13,
    );
    sign | half as u16 // a carry may reach 0x7c00: infinity, as it should
}

/// `truncated` rounded up when the `shift` bits dropped from `full` are more
/// than half a unit, or exactly half and `truncated` is odd.
fn round_even(truncated: u32, full: u32, shift: u32) -> u32 {
    let dropped = full & ((1 << shift) - 1);
    let halfway = 1 << (shift - 1);
    if dropped > halfway || (dropped == halfway && truncated & 1 == 1) {
        truncated + 1
    } else {
        truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_half_round_trips_through_f32() {
        for bits in 0..=u16::MAX {
            let value = f16_bits_to_f32(bits);
            if value.is_nan() {
                assert!(
                    f16_bits_to_f32(f32_to_f16_bits(value)).is_nan(),
                    "{bits:#06x}"
                );
            } else {
                assert_eq!(f32_to_f16_bits(value), bits, "{bits:#06x} = {value}");
            }
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(f32_to_f16_bits(1.0), 0x3c00);
        assert_eq!(f32_to_f16_bits(-2.0), 0xc000);
        assert_eq!(f32_to_f16_bits(65504.0), 0x7bff); // largest half
        assert_eq!(f32_to_f16_bits(65520.0), 0x7c00); // halfway past it: infinity
        assert_eq!(f32_to_f16_bits(2f32.powi(-24)), 0x0001); // smallest subnormal
        assert_eq!(f32_to_f16_bits(2f32.powi(-25)), 0x0000); // a tie, to even (zero)
        assert_eq!(f32_to_f16_bits(1.5 * 2f32.powi(-25)), 0x0001);
        assert_eq!(f32_to_f16_bits(2049.0), 0x6800); // 2048: tie to even
        assert_eq!(f32_to_f16_bits(2051.0), 0x6802); // 2052: tie to even
        assert_eq!(f32_to_f16_bits(-0.0), 0x8000);
        assert_eq!(f16_bits_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn rounds_to_the_nearest_half() {
        // A sweep of f32 bit patterns: the chosen half is no farther than
        // either neighbour, and on a tie it is the even one.
        let mut bits: u32 = 0;
        while let Some(next) = bits.checked_add(40_009) {
            bits = next;
            let value = f32::from_bits(bits);
            if !value.is_finite() || value.abs() >= 65504.0 {
                continue;
            }
            let half = f32_to_f16_bits(value);
            let error = (f64::from(f16_bits_to_f32(half)) - f64::from(value)).abs();
            for neighbour in [half.wrapping_sub(1), half.wrapping_add(1)] {
                let other = f16_bits_to_f32(neighbour);
                if other.is_finite() {
                    let other_error = (f64::from(other) - f64::from(value)).abs();
                    assert!(
                        error <= other_error,
                        "{value}: {half:#06x} vs {neighbour:#06x}"
                    );
                    if error == other_error {
                        assert_eq!(half & 1, 0, "tie of {value} not to even");
                    }
                }
            }
        }
    }
}
