//! Streaming sample-rate conversion, 20 ms in, 20 ms out.
//!
//! Every conversion here is between rates whose ratio is a small fraction (8/16/22.05/24/48 kHz), so the
//! filter is an exact polyphase FIR: each output sample lands on a precomputed filter phase. The filters are
//! the ones rubato's sinc resampler builds with `Nearest` interpolation and one phase per output position
//! (a Blackman-Harris windowed sinc with rubato's automatic cutoff), and the tests hold our output to
//! rubato's. The per-frame work runs in a kernel specialised for fixed 20 ms chunks, because rubato itself
//! spends ~23 ns of bookkeeping per output sample, which alone would exceed the per-call budget.
//!
//! Filter lengths are chosen per pair so the delay stays under [`MAX_DELAY`] (the budget per direction)
//! while out-of-band tones are rejected by at least 50 dB; the sweep tests hold the measurements. FFT
//! resamplers were rejected: their block delay (~10 ms at these chunk sizes) breaks the budget. Polynomial
//! ones have no anti-aliasing filter.

mod polyphase;

use std::time::Duration;

use rubato::WindowFunction;

use crate::audio::{MediaTime, SampleRate};

/// Added delay budget per conversion.
pub const MAX_DELAY: Duration = Duration::from_millis(5);

/// Failures to build or drive a resampler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// The filter could not be built for this pair of rates.
    #[error("cannot resample {from} -> {to}: {reason}")]
    Unsupported {
        /// Input rate.
        from: SampleRate,
        /// Output rate.
        to: SampleRate,
        /// Why.
        reason: String,
    },
    /// A frame of the wrong length was passed in or asked for.
    #[error("expected a {expected}-sample frame, got {got}")]
    FrameLength {
        /// Samples in one 20 ms frame at the relevant rate.
        expected: usize,
        /// Samples given.
        got: usize,
    },
}

/// Converts a stream of 20 ms frames from one rate to another. Owns its history and shares its filter with
/// every other call at the same rates, so [`Resampler::process`] allocates nothing.
pub struct Resampler {
    from: SampleRate,
    to: SampleRate,
    engine: Option<polyphase::Polyphase>,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("delay", &self.delay())
            .finish()
    }
}

impl Resampler {
    /// A resampler from `from` to `to` with this crate's filter for the pair. Equal rates pass through.
    pub fn new(from: SampleRate, to: SampleRate) -> Result<Self, ResampleError> {
        Self::with_params(from, to, FilterParams::for_rates(from, to))
    }

    /// A resampler with an explicit filter, for measuring alternatives.
    pub fn with_params(
        from: SampleRate,
        to: SampleRate,
        params: FilterParams,
    ) -> Result<Self, ResampleError> {
        if from == to {
            return Ok(Self {
                from,
                to,
                engine: None,
            });
        }
        if params.sinc_len == 0 || !params.sinc_len.is_multiple_of(8) {
            return Err(ResampleError::Unsupported {
                from,
                to,
                reason: format!(
                    "filter length {} is not a positive multiple of 8",
                    params.sinc_len
                ),
            });
        }
        let design = polyphase::design(from, to, params.sinc_len, params.cutoff_hz(from, to));
        Ok(Self {
            from,
            to,
            engine: Some(polyphase::Polyphase::new(design, from.frame_samples())),
        })
    }

    /// Input rate.
    pub fn from_rate(&self) -> SampleRate {
        self.from
    }

    /// Output rate.
    pub fn to_rate(&self) -> SampleRate {
        self.to
    }

    /// Delay this conversion adds, counted at the output rate.
    pub fn delay(&self) -> MediaTime {
        let samples = self.engine.as_ref().map_or(0, polyphase::Polyphase::delay);
        MediaTime::new(samples, self.to)
    }

    /// Converts one 20 ms frame at the input rate into one 20 ms frame at the output rate.
    pub fn process(&mut self, input: &[i16], output: &mut [i16]) -> Result<(), ResampleError> {
        check_len(self.from.frame_samples(), input.len())?;
        check_len(self.to.frame_samples(), output.len())?;
        match &mut self.engine {
            None => output.copy_from_slice(input),
            Some(engine) => engine.process(input, output),
        }
        Ok(())
    }

    /// Forgets the audio history, as after a stream restart.
    pub fn reset(&mut self) {
        if let Some(engine) = &mut self.engine {
            engine.reset();
        }
    }
}

/// Resamples a whole clip (any length), compensating the filter delay so the output lines up with the
/// input. For files and tests; calls use [`Resampler`] frame by frame.
pub fn resample_clip(
    pcm: &crate::audio::Pcm,
    to: SampleRate,
) -> Result<crate::audio::Pcm, ResampleError> {
    let from = pcm.rate();
    let mut r = Resampler::new(from, to)?;
    let (n_in, n_out) = (from.frame_samples(), to.frame_samples());
    let delay = r.delay().samples() as usize;
    let wanted = (pcm.len() as u64 * u64::from(to.hz()) / u64::from(from.hz())) as usize;
    let mut out = Vec::with_capacity(wanted + delay + 2 * n_out);
    let mut frame_out = vec![0i16; n_out];
    let mut frame_in = vec![0i16; n_in];
    // One extra silent frame per delay's worth flushes the filter's tail.
    let frames = pcm.len().div_ceil(n_in) + delay.div_ceil(n_out) + 1;
    for i in 0..frames {
        let start = (i * n_in).min(pcm.len());
        let chunk = &pcm.samples()[start..(start + n_in).min(pcm.len())];
        frame_in[..chunk.len()].copy_from_slice(chunk);
        frame_in[chunk.len()..].fill(0);
        r.process(&frame_in, &mut frame_out)?;
        out.extend_from_slice(&frame_out);
    }
    let end = (delay + wanted).min(out.len());
    Ok(crate::audio::Pcm::new(
        to,
        out[delay.min(end)..end].to_vec(),
    ))
}

fn check_len(expected: usize, got: usize) -> Result<(), ResampleError> {
    if expected == got {
        Ok(())
    } else {
        Err(ResampleError::FrameLength { expected, got })
    }
}

/// Filter choice for one pair of rates: a Blackman-Harris windowed sinc.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterParams {
    /// Taps at the input rate (a multiple of 8); the delay is half of this.
    pub sinc_len: usize,
    /// Cutoff relative to the lower Nyquist frequency; `None` takes rubato's automatic choice for the
    /// length.
    pub cutoff: Option<f32>,
}

impl FilterParams {
    /// The filter this crate uses between `from` and `to`, the cheapest that passes the telephone band
    /// (to 3.4 kHz) within 1 dB and rejects what would alias or image by at least 50 dB:
    /// - downsampling: the transition band sits at the output Nyquist, so the length scales with the
    ///   ratio: 46 taps per output-rate step, a delay of 23 output samples (2.9 ms at 8 kHz), which
    ///   leaves every pair at least 50 dB down (22.05 kHz -> 8 kHz: 100 dB) and within 0.7 dB at 3.4 kHz;
    /// - upsampling: the content is band-limited by the input (phone audio stops at 3.4 kHz), so 40 input
    ///   taps with the cutoff at 95% of the input Nyquist do (2.5 ms at 8 kHz).
    ///
    /// The numbers come from the `resample_sweep` and `upsample_sweep` tests.
    pub fn for_rates(from: SampleRate, to: SampleRate) -> Self {
        if to < from {
            let taps = (46 * u64::from(from.hz())).div_ceil(u64::from(to.hz())) as usize;
            Self {
                sinc_len: taps.next_multiple_of(8),
                cutoff: None,
            }
        } else {
            Self {
                sinc_len: 40,
                cutoff: Some(0.95),
            }
        }
    }

    /// The cutoff in Hz.
    pub fn cutoff_hz(&self, from: SampleRate, to: SampleRate) -> f64 {
        let relative = self.cutoff.unwrap_or_else(|| {
            rubato::calculate_cutoff(self.sinc_len, WindowFunction::BlackmanHarris)
        });
        f64::from(relative) * f64::from(from.hz().min(to.hz())) / 2.0
    }
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
