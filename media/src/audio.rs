//! Audio carried with its rate: sample rates, PCM buffers and media positions counted in samples.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// Duration of one media frame. Every paced path (RTP, WebSocket, VAD, turn-taking) ticks at this rate.
pub const FRAME: Duration = Duration::from_millis(20);
/// Frames per second at [`FRAME`].
pub const FRAMES_PER_SECOND: u32 = 50;

/// A sample rate in Hz. Mono is assumed everywhere: telephony audio is mono.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleRate(NonZeroU32);

impl SampleRate {
    /// Narrowband telephony (G.711).
    pub const HZ_8000: Self = Self::from_const(8_000);
    /// Wideband (G.722, most STT engines).
    pub const HZ_16000: Self = Self::from_const(16_000);
    /// Piper voices.
    pub const HZ_22050: Self = Self::from_const(22_050);
    /// Common TTS output rate.
    pub const HZ_24000: Self = Self::from_const(24_000);
    /// Opus and WebRTC.
    pub const HZ_48000: Self = Self::from_const(48_000);

    const fn from_const(hz: u32) -> Self {
        match NonZeroU32::new(hz) {
            Some(hz) => Self(hz),
            None => panic!("sample rate constants are non-zero"),
        }
    }

    /// A rate from a number of Hz; `None` for zero.
    pub const fn new(hz: u32) -> Option<Self> {
        match NonZeroU32::new(hz) {
            Some(hz) => Some(Self(hz)),
            None => None,
        }
    }

    /// The rate in Hz.
    pub const fn hz(self) -> u32 {
        self.0.get()
    }

    /// Samples in one 20 ms [`FRAME`] (441 at 22.05 kHz).
    pub const fn frame_samples(self) -> usize {
        (self.hz() / FRAMES_PER_SECOND) as usize
    }

    /// Whole samples in `duration` (rounded down).
    pub fn samples_in(self, duration: Duration) -> u64 {
        (duration.as_nanos() * u128::from(self.hz()) / 1_000_000_000) as u64
    }

    /// Duration of `samples` samples at this rate.
    pub fn duration_of(self, samples: u64) -> Duration {
        let nanos = u128::from(samples) * 1_000_000_000 / u128::from(self.hz());
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl fmt::Debug for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", self.hz())
    }
}

impl fmt::Display for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", self.hz())
    }
}

/// A position or length in a media stream, counted in samples at a rate. Never a float of seconds.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct MediaTime {
    samples: u64,
    rate: SampleRate,
}

impl MediaTime {
    /// `samples` samples at `rate`.
    pub const fn new(samples: u64, rate: SampleRate) -> Self {
        Self { samples, rate }
    }

    /// Zero at `rate`.
    pub const fn zero(rate: SampleRate) -> Self {
        Self::new(0, rate)
    }

    /// The sample count.
    pub const fn samples(self) -> u64 {
        self.samples
    }

    /// The rate the count is in.
    pub const fn rate(self) -> SampleRate {
        self.rate
    }

    /// As a wall-clock length.
    pub fn as_duration(self) -> Duration {
        self.rate.duration_of(self.samples)
    }

    /// Whole milliseconds (rounded down).
    pub fn as_millis(self) -> u64 {
        self.samples * 1000 / u64::from(self.rate.hz())
    }

    /// The same instant counted at another rate (rounded down).
    pub fn at_rate(self, rate: SampleRate) -> Self {
        let samples = u128::from(self.samples) * u128::from(rate.hz()) / u128::from(self.rate.hz());
        Self::new(samples as u64, rate)
    }

    /// Moves the position on by `samples`.
    pub fn advance(&mut self, samples: u64) {
        self.samples += samples;
    }
}

impl fmt::Debug for MediaTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.samples, self.rate.hz())
    }
}

/// Mono 16-bit PCM with its sample rate. Buffers are owned by the call and reused: per-frame paths
/// `clear()` and refill rather than allocate.
#[derive(Clone, PartialEq, Eq)]
pub struct Pcm {
    rate: SampleRate,
    samples: Vec<i16>,
}

impl Pcm {
    /// PCM from samples at `rate`.
    pub fn new(rate: SampleRate, samples: Vec<i16>) -> Self {
        Self { rate, samples }
    }

    /// An empty buffer that can hold `capacity` samples without reallocating.
    pub fn with_capacity(rate: SampleRate, capacity: usize) -> Self {
        Self::new(rate, Vec::with_capacity(capacity))
    }

    /// `len` samples of silence.
    pub fn silence(rate: SampleRate, len: usize) -> Self {
        Self::new(rate, vec![0; len])
    }

    /// The sample rate.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The samples, writable in place.
    pub fn samples_mut(&mut self) -> &mut Vec<i16> {
        &mut self.samples
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Length as a media time.
    pub fn duration(&self) -> MediaTime {
        MediaTime::new(self.samples.len() as u64, self.rate)
    }

    /// Takes the samples out, leaving the buffer empty.
    pub fn into_samples(self) -> Vec<i16> {
        self.samples
    }
}

impl fmt::Debug for Pcm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pcm")
            .field("rate", &self.rate)
            .field("len", &self.samples.len())
            .finish()
    }
}

/// A borrowed view of PCM with its rate: how engines hand out audio they keep owning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmSlice<'a> {
    /// The sample rate.
    pub rate: SampleRate,
    /// The samples.
    pub samples: &'a [i16],
}

impl PcmSlice<'_> {
    /// Length as a media time.
    pub fn duration(&self) -> MediaTime {
        MediaTime::new(self.samples.len() as u64, self.rate)
    }
}

impl Pcm {
    /// A borrowed view.
    pub fn as_slice(&self) -> PcmSlice<'_> {
        PcmSlice {
            rate: self.rate,
            samples: &self.samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes_match_20ms() {
        assert_eq!(SampleRate::HZ_8000.frame_samples(), 160);
        assert_eq!(SampleRate::HZ_16000.frame_samples(), 320);
        assert_eq!(SampleRate::HZ_22050.frame_samples(), 441);
        assert_eq!(SampleRate::HZ_24000.frame_samples(), 480);
        assert_eq!(SampleRate::HZ_48000.frame_samples(), 960);
        assert_eq!(SampleRate::new(0), None);
    }

    #[test]
    fn media_time_converts_between_rates() {
        let t = MediaTime::new(441, SampleRate::HZ_22050);
        assert_eq!(t.as_millis(), 20);
        assert_eq!(t.at_rate(SampleRate::HZ_8000).samples(), 160);
        assert_eq!(t.as_duration(), FRAME);
        assert_eq!(
            SampleRate::HZ_8000.samples_in(Duration::from_millis(125)),
            1000
        );
    }
}
