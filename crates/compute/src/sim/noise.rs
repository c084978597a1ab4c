//! Deterministic pseudo-randomness: values that look random but depend only on their
//! inputs, so the simulator gives the same answer every time it is asked (metrics,
//! snapshot sizes) without keeping any state.

/// A uniform value in `[0, 1)` that depends only on its inputs.
pub(crate) fn unit(id: i64, ts: i64, salt: u64) -> f64 {
    let mut x = splitmix64(u64::from_le_bytes(id.to_le_bytes()));
    x = splitmix64(x ^ u64::from_le_bytes(ts.to_le_bytes()));
    x = splitmix64(x ^ salt);
    // The top 53 bits fit an f64 mantissa exactly.
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The SplitMix64 finaliser: a cheap, well-mixed hash of a 64-bit value.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_in_range_and_stable() {
        for i in 0..1_000 {
            let u = unit(i, i * 7, 3);
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u.to_bits(), unit(i, i * 7, 3).to_bits());
        }
        assert_ne!(unit(1, 2, 3).to_bits(), unit(1, 2, 4).to_bits());
    }
}
