//! Whisper's mel filter bank, computed rather than shipped.
//!
//! whisper.cpp reads the filter bank from the model file, and the CTranslate2 package we convert from
//! does not carry one. Whisper's own `mel_filters.npz` is librosa's `filters.mel(sr=16000, n_fft=400,
//! n_mels=80)`: Slaney's mel scale (linear below 1 kHz, logarithmic above) with Slaney area
//! normalisation. This recomputes it in f64 and rounds to f32, as librosa does.

/// Hz per mel below 1 kHz on Slaney's scale.
const F_SP: f64 = 200.0 / 3.0;
/// Where Slaney's scale turns logarithmic.
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// The filter bank as `n_mels` rows of `n_fft / 2 + 1` weights, row-major, as whisper.cpp stores it.
pub(crate) fn mel_filters(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let sr = f64::from(sample_rate);
    let bin_hz: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
    let (low, high) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let n_points = n_mels + 2;
    let edges: Vec<f64> = (0..n_points)
        .map(|i| mel_to_hz(low + (high - low) * i as f64 / (n_points - 1) as f64))
        .collect();

    let mut out = Vec::with_capacity(n_mels * n_bins);
    for m in 0..n_mels {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let norm = 2.0 / (right - left);
        for &f in &bin_hz {
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            out.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values read from Whisper's `assets/mel_filters.npz` (`mel_80`, shape 80 x 201).
    const REFERENCE: [(usize, usize, f32); 5] = [
        (0, 1, 0.024_862_595),
        (1, 1, 0.001_990_822),
        (1, 2, 0.022_871_772),
        (0, 0, 0.0),
        (79, 200, 0.0),
    ];

    #[test]
    fn engines_mel_matches_whisper_assets() {
        let f = mel_filters(16_000, 400, 80);
        assert_eq!(f.len(), 80 * 201);
        for (row, col, want) in REFERENCE {
            let got = f[row * 201 + col];
            assert!(
                (got - want).abs() < 1e-7,
                "[{row}][{col}] = {got}, want {want}"
            );
        }
        let max = f.iter().copied().fold(0.0f32, f32::max);
        assert!((max - 0.025_880_683).abs() < 1e-7, "max {max}");
        // Every filter has some weight; none is negative.
        for row in f.chunks(201) {
            assert!(row.iter().all(|&w| w >= 0.0));
            assert!(row.iter().any(|&w| w > 0.0));
        }
    }
}
