//! The caller audio of one recogniser segment (since the last end of turn), capped so a caller who never
//! pauses cannot grow it without bound. Shared by the recognisers that transcribe whole segments.

use std::time::Duration;

use dialtone_media::SampleRate;

/// Caller audio since the last flush, oldest dropped beyond a cap.
#[derive(Debug)]
pub(crate) struct SegmentBuffer {
    samples: Vec<i16>,
    max: usize,
    typical: usize,
}

impl SegmentBuffer {
    /// A buffer keeping at most `max` of audio at `rate`, with room for four seconds up front.
    pub(crate) fn new(rate: SampleRate, max: Duration) -> Self {
        let typical = rate.hz() as usize * 4;
        Self {
            samples: Vec::with_capacity(typical),
            max: rate.samples_in(max) as usize,
            typical,
        }
    }

    /// Appends audio, dropping the oldest beyond the cap.
    pub(crate) fn push(&mut self, samples: &[i16]) {
        self.samples.extend_from_slice(samples);
        if self.samples.len() > self.max {
            let excess = self.samples.len() - self.max;
            self.samples.drain(..excess);
        }
    }

    /// The audio so far.
    pub(crate) fn as_slice(&self) -> &[i16] {
        &self.samples
    }

    /// Takes the audio out, leaving an empty buffer ready for the next segment.
    pub(crate) fn take(&mut self) -> Vec<i16> {
        std::mem::replace(&mut self.samples, Vec::with_capacity(self.typical))
    }

    /// Forgets the audio.
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_audio_up_to_the_cap() {
        let mut b = SegmentBuffer::new(SampleRate::HZ_8000, Duration::from_millis(10));
        b.push(&[1; 60]);
        b.push(&[2; 60]);
        assert_eq!(b.as_slice().len(), 80);
        assert_eq!(b.as_slice()[0], 1);
        assert_eq!(b.as_slice()[79], 2);
        assert_eq!(b.take().len(), 80);
        assert!(b.as_slice().is_empty());
    }
}
