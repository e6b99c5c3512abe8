//! Sample storage on the stream timeline: a ring of PCM indexed by stream position, with one bit per
//! sample saying whether it arrived and one saying whether it lies in a deliberate gap (silence
//! between talkspurts, the pre-roll before playout), so that playout can tell a gap from a loss.
//!
//! The ring only knows positions modulo its capacity; the buffer keeps everything it stores within
//! one capacity of the playout point and clears what it consumes, so a set bit is never stale.

use std::fmt;

/// One bit per ring slot.
#[derive(Clone)]
struct BitRing {
    words: Vec<u64>,
    mask: u64,
}

impl BitRing {
    fn new(capacity: usize) -> Self {
        Self {
            words: vec![0; capacity / 64],
            mask: capacity as u64 - 1,
        }
    }

    fn index(&self, pos: i64) -> usize {
        // Two's complement masking is a Euclidean remainder for a power-of-two capacity.
        (pos as u64 & self.mask) as usize
    }

    /// Calls `f(word, bits)` for each word the range `[pos, pos + len)` touches, splitting at the
    /// ring's end. `len` is clamped to the capacity (`mask + 1`).
    fn for_words(mask: u64, pos: i64, len: usize, mut f: impl FnMut(usize, u64)) {
        let capacity = mask as usize + 1;
        let mut left = len.min(capacity);
        let mut index = (pos as u64 & mask) as usize;
        while left > 0 {
            let bit = index % 64;
            let n = (64 - bit).min(left);
            let bits = if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << bit
            };
            f(index / 64, bits);
            left -= n;
            index = (index + n) & (capacity - 1);
        }
    }

    fn set(&mut self, pos: i64, len: usize) {
        let words = &mut self.words;
        Self::for_words(self.mask, pos, len, |w, bits| words[w] |= bits);
    }

    fn clear(&mut self, pos: i64, len: usize) {
        let words = &mut self.words;
        Self::for_words(self.mask, pos, len, |w, bits| words[w] &= !bits);
    }

    fn clear_all(&mut self) {
        self.words.fill(0);
    }

    fn count(&self, pos: i64, len: usize) -> usize {
        let mut count = 0;
        Self::for_words(self.mask, pos, len, |w, bits| {
            count += (self.words[w] & bits).count_ones() as usize;
        });
        count
    }

    fn get(&self, pos: i64) -> bool {
        let index = self.index(pos);
        self.words[index / 64] >> (index % 64) & 1 == 1
    }

    /// How many slots from `pos` on (at most `max`) hold `value`.
    fn run(&self, pos: i64, max: usize, value: bool) -> usize {
        let capacity = self.words.len() * 64;
        let max = max.min(capacity);
        let mut count = 0;
        let mut index = self.index(pos);
        while count < max {
            let bit = index % 64;
            let n = (64 - bit).min(max - count);
            let word = self.words[index / 64] >> bit;
            let word = if value { word } else { !word };
            let same = (word.trailing_ones() as usize).min(n);
            count += same;
            if same < n {
                break;
            }
            index = (index + n) & (capacity - 1);
        }
        count
    }
}

/// PCM on the stream timeline. Positions are stream samples at the PCM rate.
#[derive(Clone)]
pub(super) struct Storage {
    samples: Vec<i16>,
    present: BitRing,
    gap: BitRing,
}

impl Storage {
    /// Storage for at least `min_capacity` samples (rounded up to a power of two, at least 64).
    pub(super) fn new(min_capacity: usize) -> Self {
        let capacity = min_capacity.max(64).next_power_of_two();
        Self {
            samples: vec![0; capacity],
            present: BitRing::new(capacity),
            gap: BitRing::new(capacity),
        }
    }

    /// Samples the ring holds: the largest span of the timeline stored at once.
    pub(super) fn capacity(&self) -> usize {
        self.samples.len()
    }

    /// Stores `samples` at `pos` wherever nothing is stored yet (the first copy wins), and returns how
    /// many samples were new. The caller keeps the span within one capacity of the playout point.
    pub(super) fn write(&mut self, pos: i64, samples: &[i16]) -> usize {
        let len = samples.len().min(self.capacity());
        let samples = &samples[..len];
        if self.present.count(pos, len) == 0 {
            let start = self.present.index(pos);
            let first = len.min(self.capacity() - start);
            self.samples[start..start + first].copy_from_slice(&samples[..first]);
            self.samples[..len - first].copy_from_slice(&samples[first..]);
            self.present.set(pos, len);
            return len;
        }
        let mut new = 0;
        for (offset, &sample) in samples.iter().enumerate() {
            let at = pos + offset as i64;
            if !self.present.get(at) {
                self.samples[self.present.index(at)] = sample;
                self.present.set(at, 1);
                new += 1;
            }
        }
        new
    }

    /// Copies the stored samples at `[pos, pos + out.len())` into `out` (absent ones read as stale
    /// data: ask [`Self::present_run`] first).
    pub(super) fn read(&self, pos: i64, out: &mut [i16]) {
        let len = out.len().min(self.capacity());
        let start = self.present.index(pos);
        let first = len.min(self.capacity() - start);
        out[..first].copy_from_slice(&self.samples[start..start + first]);
        out[first..len].copy_from_slice(&self.samples[..len - first]);
    }

    /// Marks `[pos, pos + len)` as a deliberate gap: silence by design, not loss.
    pub(super) fn mark_gap(&mut self, pos: i64, len: usize) {
        self.gap.set(pos, len);
    }

    /// Forgets `[pos, pos + len)`: audio and gap marks.
    pub(super) fn clear(&mut self, pos: i64, len: usize) {
        if len >= self.capacity() {
            self.clear_all();
        } else {
            self.present.clear(pos, len);
            self.gap.clear(pos, len);
        }
    }

    /// Forgets everything.
    pub(super) fn clear_all(&mut self) {
        self.present.clear_all();
        self.gap.clear_all();
    }

    /// Stored samples in `[pos, pos + len)`.
    pub(super) fn count_present(&self, pos: i64, len: usize) -> usize {
        self.present.count(pos, len)
    }

    /// Gap-marked samples in `[pos, pos + len)`.
    pub(super) fn count_gap(&self, pos: i64, len: usize) -> usize {
        self.gap.count(pos, len)
    }

    /// Stored samples in a row from `pos` (at most `max`).
    pub(super) fn present_run(&self, pos: i64, max: usize) -> usize {
        self.present.run(pos, max, true)
    }

    /// Missing samples in a row from `pos` (at most `max`).
    pub(super) fn absent_run(&self, pos: i64, max: usize) -> usize {
        self.present.run(pos, max, false)
    }

    /// Gap-marked samples in a row from `pos` (at most `max`).
    pub(super) fn gap_run(&self, pos: i64, max: usize) -> usize {
        self.gap.run(pos, max, true)
    }

    /// Samples in a row from `pos` that are not gap-marked (at most `max`).
    pub(super) fn non_gap_run(&self, pos: i64, max: usize) -> usize {
        self.gap.run(pos, max, false)
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_a_power_of_two() {
        assert_eq!(Storage::new(0).capacity(), 64);
        assert_eq!(Storage::new(2_880).capacity(), 4_096);
        assert_eq!(Storage::new(4_096).capacity(), 4_096);
    }

    #[test]
    fn writes_and_reads_across_the_ring_end_and_negative_positions() {
        let mut storage = Storage::new(256);
        let samples: Vec<i16> = (0..100).collect();
        for pos in [-50i64, 200, 1_000_000_000_000, -7] {
            storage.clear_all();
            assert_eq!(storage.write(pos, &samples), 100);
            let mut out = vec![0; 100];
            storage.read(pos, &mut out);
            assert_eq!(out, samples);
            assert_eq!(storage.count_present(pos, 100), 100);
            assert_eq!(storage.count_present(pos - 10, 120), 100);
            assert_eq!(storage.present_run(pos, 256), 100);
            assert_eq!(storage.absent_run(pos + 100, 500), 156);
        }
    }

    #[test]
    fn first_copy_wins_on_overlap() {
        let mut storage = Storage::new(256);
        assert_eq!(storage.write(0, &[1; 10]), 10);
        assert_eq!(storage.write(5, &[2; 10]), 5);
        assert_eq!(storage.write(0, &[3; 15]), 0);
        let mut out = [0; 15];
        storage.read(0, &mut out);
        assert_eq!(out, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    }

    #[test]
    fn gaps_and_clearing() {
        let mut storage = Storage::new(128);
        storage.mark_gap(100, 70);
        assert_eq!(storage.count_gap(100, 70), 70);
        assert_eq!(storage.gap_run(100, 200), 70);
        assert_eq!(storage.non_gap_run(170, 200), 58);
        assert_eq!(storage.non_gap_run(99, 10), 1);
        storage.clear(100, 30);
        assert_eq!(storage.count_gap(100, 70), 40);
        storage.write(0, &[5; 128]);
        storage.clear(0, 1_000);
        assert_eq!(storage.count_present(0, 128), 0);
        assert_eq!(storage.count_gap(0, 128), 0);
    }

    #[test]
    fn runs_stop_at_the_first_change_and_at_max() {
        let mut storage = Storage::new(256);
        storage.write(10, &[0; 100]);
        assert_eq!(storage.present_run(10, 1_000), 100);
        assert_eq!(storage.present_run(10, 64), 64);
        assert_eq!(storage.present_run(9, 64), 0);
        assert_eq!(storage.absent_run(0, 64), 10);
        assert_eq!(storage.absent_run(110, 1_000), 156);
    }
}
