//! In-band DTMF detection with eight Goertzel filters, for carriers that send key presses as tones
//! in the audio instead of RFC 4733 events.
//!
//! The audio is cut into blocks of 102 samples at 8 kHz (12.75 ms; scaled with the rate), short
//! enough to follow 40 ms tones and long enough that neighbouring row frequencies (73 Hz apart)
//! fall near each other's first spectral null. Each block passes when one row and one column tone
//! stand out; a key is reported once it passes three blocks in a row and again only after three
//! failing blocks.

use super::{Digit, DtmfError};
use crate::{MediaTime, SampleRate};

/// Low-group (row) frequencies in Hz.
pub(crate) const ROW_HZ: [u32; 4] = [697, 770, 852, 941];
/// High-group (column) frequencies in Hz.
pub(crate) const COL_HZ: [u32; 4] = [1209, 1336, 1477, 1633];

/// Block length at 8 kHz; scaled with the rate so frequency resolution stays the same.
const BLOCK_AT_8K: u32 = 102;
/// Consecutive passing blocks before a key is reported (3 x 12.75 ms, about 40 ms of tone).
const ON_BLOCKS: u8 = 3;
/// Consecutive failing blocks that end a press, so the same key can be reported again.
const GAP_BLOCKS: u8 = 3;
/// Minimum mean power of each tone, in squared sample units: a sine of amplitude 400 (about
/// -35 dBm0 in 16-bit PCM) has mean power 80 000.
const MIN_TONE_POWER: f32 = 80_000.0;
/// Row tone may be this much stronger than the column tone: 8 dB (normal twist).
const NORMAL_TWIST: f32 = 6.31;
/// Column tone may be this much stronger than the row tone: 4 dB (reverse twist).
const REVERSE_TWIST: f32 = 2.51;
/// The strongest tone of a group must beat the others of its group by 8 dB.
const GROUP_DOMINANCE: f32 = 6.31;
/// The two tones must carry this share of the block's energy; speech, music and noise spread
/// theirs over many frequencies.
const MIN_TONE_SHARE: f32 = 0.6;
/// Keys by (row, column).
const KEYPAD: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Pound, Digit::D],
];
/// Reports kept until polled.
const QUEUE: usize = 8;

/// A key press found in the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InbandDigit {
    /// The key.
    pub digit: Digit,
    /// Start of the first block of the run that confirmed the key, counted from the first sample
    /// the detector was given (or the last reset): roughly where the tone began.
    pub at: MediaTime,
}

/// Finds DTMF key presses in mono PCM of any length per call, without allocating.
///
/// Feed audio with [`GoertzelDetector::process`], then drain [`GoertzelDetector::poll_digit`];
/// up to eight reports are kept between polls (the oldest is dropped beyond that, which takes
/// more than 300 ms of key presses in one call).
///
/// Checks per block: each tone above about -35 dBm0; row and column twist within 8 dB (row
/// louder) and 4 dB (column louder); each tone 8 dB above the others of its group; the two tones
/// at least 60 % of the block's energy. There is no second-harmonic check: the energy share
/// already rejects voiced speech, whose harmonics spread energy across the band.
#[derive(Debug, Clone)]
pub struct GoertzelDetector {
    rate: SampleRate,
    block_len: usize,
    coeffs: [f32; 8],
    /// Goertzel state (s[n-1], s[n-2]) per filter.
    state: [(f32, f32); 8],
    energy: f32,
    filled: usize,
    /// Samples consumed since creation or reset.
    position: u64,
    candidate: Option<Digit>,
    candidate_blocks: u8,
    candidate_start: u64,
    reported: Option<Digit>,
    misses: u8,
    queue: [Option<InbandDigit>; QUEUE],
    queue_head: usize,
    queue_len: usize,
}

impl GoertzelDetector {
    /// A detector for audio at `rate`; 8 kHz and 16 kHz are the usual, any rate from 8 kHz works.
    pub fn new(rate: SampleRate) -> Result<Self, DtmfError> {
        if rate.hz() < 8_000 {
            return Err(DtmfError::UnsupportedRate(rate));
        }
        let block_len = (u64::from(BLOCK_AT_8K) * u64::from(rate.hz())).div_ceil(8_000) as usize;
        let mut coeffs = [0.0; 8];
        for (c, hz) in coeffs.iter_mut().zip(ROW_HZ.iter().chain(&COL_HZ)) {
            let omega = 2.0 * std::f64::consts::PI * f64::from(*hz) / f64::from(rate.hz());
            *c = (2.0 * omega.cos()) as f32;
        }
        Ok(Self {
            rate,
            block_len,
            coeffs,
            state: [(0.0, 0.0); 8],
            energy: 0.0,
            filled: 0,
            position: 0,
            candidate: None,
            candidate_blocks: 0,
            candidate_start: 0,
            reported: None,
            misses: 0,
            queue: [None; QUEUE],
            queue_head: 0,
            queue_len: 0,
        })
    }

    /// The rate the detector expects.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Runs `samples` through the filters; reports become available from
    /// [`GoertzelDetector::poll_digit`].
    pub fn process(&mut self, samples: &[i16]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = rest.len().min(self.block_len - self.filled);
            let (chunk, tail) = rest.split_at(take);
            self.feed(chunk);
            rest = tail;
            self.filled += take;
            if self.filled == self.block_len {
                self.finish_block();
            }
        }
    }

    /// The next key press found, oldest first.
    pub fn poll_digit(&mut self) -> Option<InbandDigit> {
        if self.queue_len == 0 {
            return None;
        }
        let item = self.queue[self.queue_head].take();
        self.queue_head = (self.queue_head + 1) % QUEUE;
        self.queue_len -= 1;
        item
    }

    /// Forgets all audio and pending reports, as at the start of a call.
    pub fn reset(&mut self) {
        self.state = [(0.0, 0.0); 8];
        self.energy = 0.0;
        self.filled = 0;
        self.position = 0;
        self.candidate = None;
        self.candidate_blocks = 0;
        self.candidate_start = 0;
        self.reported = None;
        self.misses = 0;
        self.queue = [None; QUEUE];
        self.queue_head = 0;
        self.queue_len = 0;
    }

    fn feed(&mut self, chunk: &[i16]) {
        for &sample in chunk {
            let x = f32::from(sample);
            self.energy += x * x;
            for (s, &c) in self.state.iter_mut().zip(&self.coeffs) {
                let next = x + c * s.0 - s.1;
                *s = (next, s.0);
            }
        }
    }

    fn finish_block(&mut self) {
        let n = self.block_len as f32;
        let mut power = [0.0f32; 8];
        for ((p, s), &c) in power.iter_mut().zip(&self.state).zip(&self.coeffs) {
            // |X|^2 scaled so that a sine of amplitude A gives its mean power A^2 / 2.
            *p = (s.0 * s.0 + s.1 * s.1 - c * s.0 * s.1) * 2.0 / (n * n);
        }
        let mean_energy = self.energy / n;
        let block_start = self.position;
        self.position += self.block_len as u64;
        self.state = [(0.0, 0.0); 8];
        self.energy = 0.0;
        self.filled = 0;

        let hit = classify(&power, mean_energy);
        self.update(hit, block_start);
    }

    fn update(&mut self, hit: Option<Digit>, block_start: u64) {
        match hit {
            Some(d) if self.candidate == Some(d) => {
                self.candidate_blocks = self.candidate_blocks.saturating_add(1);
            }
            Some(d) => {
                self.candidate = Some(d);
                self.candidate_blocks = 1;
                self.candidate_start = block_start;
            }
            None => {
                self.candidate = None;
                self.candidate_blocks = 0;
            }
        }
        if let Some(held) = self.reported {
            if hit == Some(held) {
                self.misses = 0;
            } else {
                self.misses = self.misses.saturating_add(1);
                if self.misses >= GAP_BLOCKS {
                    self.reported = None;
                }
            }
        }
        if let Some(digit) = self.candidate
            && self.candidate_blocks >= ON_BLOCKS
            && self.reported != Some(digit)
        {
            self.reported = Some(digit);
            self.misses = 0;
            self.push(InbandDigit {
                digit,
                at: MediaTime::new(self.candidate_start, self.rate),
            });
        }
    }

    fn push(&mut self, item: InbandDigit) {
        if self.queue_len == QUEUE {
            self.queue_head = (self.queue_head + 1) % QUEUE;
            self.queue_len -= 1;
        }
        self.queue[(self.queue_head + self.queue_len) % QUEUE] = Some(item);
        self.queue_len += 1;
    }
}

/// The key whose two tones dominate a block, if any. `power` holds the four row then the four
/// column tone powers; `mean_energy` is the block's mean power.
fn classify(power: &[f32; 8], mean_energy: f32) -> Option<Digit> {
    let (rows, cols) = power.split_at(4);
    let (r, pr) = strongest(rows);
    let (c, pc) = strongest(cols);
    if pr < MIN_TONE_POWER || pc < MIN_TONE_POWER {
        return None;
    }
    if pr > pc * NORMAL_TWIST || pc > pr * REVERSE_TWIST {
        return None;
    }
    let dominates = |group: &[f32], best: usize, peak: f32| {
        group
            .iter()
            .enumerate()
            .all(|(i, &p)| i == best || p * GROUP_DOMINANCE <= peak)
    };
    if !dominates(rows, r, pr) || !dominates(cols, c, pc) {
        return None;
    }
    if pr + pc < MIN_TONE_SHARE * mean_energy {
        return None;
    }
    Some(KEYPAD[r][c])
}

fn strongest(group: &[f32]) -> (usize, f32) {
    group.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

#[cfg(test)]
#[path = "goertzel_tests.rs"]
mod tests;
