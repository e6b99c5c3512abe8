//! Adaptive jitter buffer: RTP audio in, one steady 20 ms frame of PCM out per tick.
//!
//! Packets carry decoded PCM and their RTP fields. The buffer places their samples on a stream
//! timeline derived from the RTP timestamp (converted to the PCM rate), so packets of any duration
//! (10 to 60 ms, or mixed) feed 20 ms frames, and reordering, duplicates and overlap fall out of the
//! sample positions. Sequence numbers only tell exact duplicates, reordering and losses apart.
//!
//! # Delay
//! The buffer plays each sample a fixed playout delay after the *fastest* recent packets would have
//! brought it (see [`delay_estimator`]). That delay is the buffer's depth; it targets the 95th
//! percentile of measured arrival jitter plus half a frame, clamped to `min_delay..=max_delay`
//! (`initial_delay` until jitter has been measured). When the depth exceeds the target by a frame
//! or more, a frame is dropped (a quiet one if one comes within a second, any frame if the
//! excess passes three frames; silent gaps first). When it falls short, nothing is dropped; an
//! underrun conceals without advancing, which deepens the buffer, and the silence between talkspurts
//! is stretched or shortened to the target for free.
//!
//! # Talkspurts, DTX and restarts
//! A packet starting beyond everything buffered, either with the marker bit or with a sequence
//! number that shows no packet is missing (or too few to fill the gap), starts a new talkspurt: the
//! gap before it is silence by design, not loss, and if the buffer had run dry, playout re-anchors
//! so that the talkspurt starts exactly the target delay after its first packet arrived. A new
//! SSRC, a timestamp that jumps by more than a second against the arrival clock, or a run of
//! packets all too late to play restarts the timeline ([`PushOutcome::Resynced`]): the new stream is
//! placed right after the audio still buffered, which plays out first.
//!
//! # Loss
//! Missing audio is concealed ([`conceal`]) by continuing the last pitch period, fading to silence
//! over four frames. `lost` counts frames played while part of their stream audio was missing.
//!
//! Sans-IO: time only comes in as `Instant` arguments; storage is allocated once in
//! [`JitterBuffer::new`].

mod conceal;
mod delay_estimator;
mod playout;
mod push;
mod storage;
mod unwrap;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use crate::audio::{FRAME, SampleRate};

use conceal::Concealer;
use delay_estimator::DelayEstimator;
use storage::Storage;
use unwrap::{SeenPackets, Unwrapper};

/// Jitter buffer settings. Delays are playout delays: how long after the fastest packets a sample
/// plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Rate of the PCM pushed in and popped out.
    pub pcm_rate: SampleRate,
    /// RTP timestamp clock of the payload (G.722 has 16 kHz PCM on an 8 kHz clock, Opus 48 kHz).
    /// A timestamp delta converts to PCM samples as `delta * pcm_rate / clock_rate`. Zero is read as
    /// `pcm_rate`.
    pub clock_rate: u32,
    /// Lowest target, kept even on a perfect network.
    pub min_delay: Duration,
    /// Highest target. The storage holds this plus 160 ms; beyond that, packets overflow.
    pub max_delay: Duration,
    /// Target before any jitter has been measured; it gives way to measurement over a few seconds.
    pub initial_delay: Duration,
}

impl JitterConfig {
    /// Defaults for telephony: 20 ms minimum, 200 ms maximum, 40 ms to start.
    pub fn for_rate(pcm_rate: SampleRate, clock_rate: u32) -> Self {
        Self {
            pcm_rate,
            clock_rate,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            initial_delay: Duration::from_millis(40),
        }
    }
}

/// One received RTP packet, its payload already decoded to PCM at [`JitterConfig::pcm_rate`].
#[derive(Debug, Clone, Copy)]
pub struct JitterPacket<'a> {
    /// Stream identity; a new one restarts the timeline.
    pub ssrc: u32,
    /// RTP sequence number.
    pub sequence: u16,
    /// RTP timestamp of the first sample, on the `clock_rate` clock.
    pub timestamp: u32,
    /// RTP marker bit: for audio, the first packet of a talkspurt.
    pub marker: bool,
    /// Decoded PCM.
    pub samples: &'a [i16],
}

/// What [`JitterBuffer::push`] did with a packet. Every push has exactly one outcome, so
/// `received == stored + duplicates + late + overflows + resyncs + ssrc_changes` in [`JitterStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout (an empty packet is accepted and adds nothing).
    Stored,
    /// Already received (same sequence number and timestamp, or all its samples already held).
    Duplicate,
    /// Its audio was already due; dropped. Also a straggler from the previous SSRC or from before a
    /// timestamp jump.
    TooLate,
    /// The stream restarted (new SSRC, timestamp jump, or persistent lateness). The packet was
    /// stored as the start of a new timeline, placed after the audio still buffered (which plays
    /// out) and at least the target delay after its arrival.
    Resynced,
    /// The packet ended beyond the storage (max_delay + 160 ms ahead of playout). The oldest buffered
    /// audio was discarded to make room (counted in `dropped_for_latency`) and the packet stored: the
    /// freshest audio wins. A packet longer than the whole storage is dropped instead.
    Overflow,
}

/// What [`JitterBuffer::pop`] put in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout {
    /// Stream audio (a few samples may be concealed where part of the frame was missing).
    Audio,
    /// Concealment of missing audio, still audible.
    Concealed,
    /// Zeros: playout not started, a deliberate gap, or a loss long enough that concealment faded out.
    Silence,
}

/// Counters since [`JitterBuffer::new`] or [`JitterBuffer::reset`]. Packet counts: `received`,
/// `stored`, `duplicates`, `late`, `overflows`, `reordered`, `ssrc_changes`, `resyncs`,
/// `talkspurts`. Frame counts (20 ms): `played`, `concealed`, `lost`, `dropped_for_latency`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets pushed.
    pub received: u64,
    /// Frames returned as [`Playout::Audio`].
    pub played: u64,
    /// Packets dropped as [`PushOutcome::TooLate`].
    pub late: u64,
    /// Frames played while part of their audio was missing from the stream (a hole before audio
    /// that had arrived, or a wait that turned out to be a loss). Not gaps between talkspurts, not
    /// audio that arrived late but still in time to play after an underrun.
    pub lost: u64,
    /// Packets dropped as [`PushOutcome::Duplicate`].
    pub duplicates: u64,
    /// Frames returned as [`Playout::Concealed`].
    pub concealed: u64,
    /// Stored packets that arrived after a packet with a higher sequence number.
    pub reordered: u64,
    /// New SSRCs after the first.
    pub ssrc_changes: u64,
    /// Timeline restarts of the same SSRC (timestamp jump or persistent lateness).
    pub resyncs: u64,
    /// Frames of buffered audio discarded to cut the delay (latency control or overflow).
    pub dropped_for_latency: u64,
    /// Current target playout delay.
    pub target_delay: Duration,
    /// Playout delay at the last pop: how long after the fastest recent packets the frame played.
    pub current_delay: Duration,
    /// Measured jitter: 95th percentile of arrival delay above the fastest recent packet.
    pub jitter: Duration,
    /// Packets returned as [`PushOutcome::Stored`].
    pub stored: u64,
    /// Packets returned as [`PushOutcome::Overflow`].
    pub overflows: u64,
    /// Talkspurts that started after a gap (DTX, silence suppression, hold).
    pub talkspurts: u64,
}

/// Audio the storage holds beyond `max_delay`: room for the longest packet (120 ms) and a frame of
/// look-ahead for dropping, rounded up.
const STORAGE_SLACK: Duration = Duration::from_millis(160);
/// Largest delay setting honoured (bounds the storage).
const MAX_CONFIG_DELAY: Duration = Duration::from_secs(5);
/// Target above the jitter percentile, for packets that start inside a frame.
const MARGIN_US: i64 = 10_000;
/// A timestamp that moves against the arrival clock by more than this restarts the timeline.
const JUMP_US: i64 = 1_000_000;
/// Consecutive too-late packets after which the timeline restarts.
const LATE_RESYNC: u32 = 16;
/// A sequence number this far from the highest means the sender renumbered.
const SEQ_RENUMBER: u64 = 3_000;
/// Consecutive packets of the previous SSRC (with none of the current) after which it is taken back.
const SSRC_SWITCH_BACK: u32 = 8;

/// The jitter buffer of one incoming audio stream. See the module documentation.
pub struct JitterBuffer {
    config: JitterConfig,
    /// Samples per 20 ms frame (at least 1).
    frame: usize,
    storage: Storage,
    estimator: DelayEstimator,
    concealer: Concealer,
    seen: SeenPackets,
    sequence: Unwrapper,
    timestamp: Unwrapper,
    /// Origin of the microsecond axis: the first arrival.
    epoch: Option<Instant>,
    ssrc: Option<u32>,
    previous_ssrc: Option<u32>,
    /// Packets of `previous_ssrc` in a row since the last of the current SSRC.
    previous_streak: u32,
    /// Stream position of the next sample to play.
    play_pos: i64,
    /// Stream position of extended timestamp 0 of the current stream.
    origin: i64,
    /// End of the furthest audio stored; at or before `play_pos` means the buffer is dry.
    max_end: i64,
    /// Length of the last stored packet, to size the audio a run of missing packets could hold.
    last_len: usize,
    /// Concealment played while dry without advancing, and its frames: delay added by an underrun.
    stall_samples: usize,
    stall_frames: u64,
    late_streak: u32,
    /// Consecutive pops spent over target waiting for a quiet frame to drop.
    excess_pops: u32,
    /// Running mean absolute level of played audio, to recognise a quiet frame.
    level: i64,
    target_us: i64,
    /// The frame after the one being dropped.
    scratch: Vec<i16>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer with all its storage allocated: nothing allocates afterwards. Out-of-range settings
    /// are clamped (delays to 5 s, `max_delay` to at least a frame and `min_delay`).
    pub fn new(config: JitterConfig) -> Self {
        let mut config = config;
        if config.clock_rate == 0 {
            config.clock_rate = config.pcm_rate.hz();
        }
        config.min_delay = config.min_delay.min(MAX_CONFIG_DELAY);
        config.max_delay = config
            .max_delay
            .clamp(config.min_delay.max(FRAME), MAX_CONFIG_DELAY);
        config.initial_delay = config
            .initial_delay
            .clamp(config.min_delay, config.max_delay);
        let frame = config.pcm_rate.frame_samples().max(1);
        let span = config.pcm_rate.samples_in(config.max_delay + STORAGE_SLACK);
        let capacity = usize::try_from(span).unwrap_or(usize::MAX).max(4 * frame);
        let prior = micros(config.initial_delay) - MARGIN_US;
        let mut buffer = Self {
            config,
            frame,
            storage: Storage::new(capacity),
            estimator: DelayEstimator::new(micros(config.max_delay), prior.max(0)),
            concealer: Concealer::new(frame),
            seen: SeenPackets::new(),
            sequence: Unwrapper::sequence(),
            timestamp: Unwrapper::timestamp(),
            epoch: None,
            ssrc: None,
            previous_ssrc: None,
            previous_streak: 0,
            play_pos: 0,
            origin: 0,
            max_end: 0,
            last_len: 0,
            stall_samples: 0,
            stall_frames: 0,
            late_streak: 0,
            excess_pops: 0,
            level: 0,
            target_us: 0,
            scratch: vec![0; frame],
            stats: JitterStats::default(),
        };
        buffer.reset();
        buffer
    }

    /// Forgets the stream, the learnt jitter and the counters, as if new (without allocating).
    pub fn reset(&mut self) {
        self.storage.clear_all();
        self.estimator.reset();
        self.concealer.reset();
        self.seen.clear();
        self.sequence.reset();
        self.timestamp.reset();
        self.epoch = None;
        self.ssrc = None;
        self.previous_ssrc = None;
        self.previous_streak = 0;
        self.play_pos = 0;
        self.origin = 0;
        self.max_end = 0;
        self.last_len = 0;
        self.stall_samples = 0;
        self.stall_frames = 0;
        self.late_streak = 0;
        self.excess_pops = 0;
        self.level = 0;
        self.stats = JitterStats::default();
        self.target_us = micros(self.config.initial_delay);
        self.refresh_target();
    }

    /// Counters and the current delays.
    pub fn stats(&self) -> &JitterStats {
        &self.stats
    }

    /// The settings in force (after clamping).
    pub fn config(&self) -> &JitterConfig {
        &self.config
    }

    /// Microseconds from the first arrival to `t` (negative before it).
    fn micros_at(&mut self, t: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(t);
        let us = match t.checked_duration_since(epoch) {
            Some(after) => micros(after),
            None => -micros(epoch.duration_since(t)),
        };
        clamp_i64(i128::from(us))
    }

    /// Stream position (PCM samples) of an unwrapped timestamp.
    fn position(&self, timestamp: i64) -> i64 {
        let pos = i128::from(timestamp) * i128::from(self.config.pcm_rate.hz());
        let pos = pos.div_euclid(i128::from(self.config.clock_rate)) + i128::from(self.origin);
        clamp_i64(pos)
    }

    /// Media time of a stream position, in microseconds.
    fn pos_us(&self, pos: i64) -> i64 {
        clamp_i64((i128::from(pos) * 1_000_000).div_euclid(i128::from(self.config.pcm_rate.hz())))
    }

    fn frame_us(&self) -> i64 {
        micros(FRAME)
    }

    /// Recomputes the target from the jitter estimate.
    fn refresh_target(&mut self) {
        let jitter = self.estimator.jitter_us();
        let (min, max) = (micros(self.config.min_delay), micros(self.config.max_delay));
        self.target_us = jitter.saturating_add(MARGIN_US).clamp(min, max);
        self.stats.target_delay = duration(self.target_us);
        self.stats.jitter = duration(jitter);
    }

    /// Moves playout forward to `pos`, forgetting what lies before it.
    fn advance_to(&mut self, pos: i64) {
        if pos <= self.play_pos {
            return;
        }
        let len = usize::try_from(pos - self.play_pos).unwrap_or(usize::MAX);
        self.storage.clear(self.play_pos, len);
        self.play_pos = pos;
    }

    fn reset_stall(&mut self) {
        self.stall_samples = 0;
        self.stall_frames = 0;
    }
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("config", &self.config)
            .field("ssrc", &self.ssrc)
            .field("play_pos", &self.play_pos)
            .field("max_end", &self.max_end)
            .field("target_us", &self.target_us)
            .field("storage", &self.storage)
            .field("concealer", &self.concealer)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn duration(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// Positions and times stay within ±2^60 so that sums and differences of a few never overflow.
fn clamp_i64(v: i128) -> i64 {
    const LIMIT: i128 = 1 << 60;
    v.clamp(-LIMIT, LIMIT) as i64
}
