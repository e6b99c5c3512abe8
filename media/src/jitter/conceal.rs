//! Loss concealment: when audio is missing, continue the last good audio periodically (one pitch
//! period, found by autocorrelation, repeated; a whole frame when no period stands out) and fade it
//! out linearly over four frames, after which it is silence. When real audio resumes, blend into it
//! so that neither the concealment's end nor a restart from silence clicks.

/// Why a stretch of output is being concealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// Audio of the stream that was due and is missing (loss, lateness, underrun).
    Missing,
    /// A deliberate gap: pre-roll or silence between talkspurts.
    Gap,
}

/// Concealment state, sized for one frame. Allocates in `new` only.
#[derive(Clone)]
pub(super) struct Concealer {
    frame: usize,
    /// The last frame of output, the source of the next concealment.
    history: Vec<i16>,
    /// The audio being continued: the frame of output just before the concealment began.
    source: Vec<i16>,
    period: usize,
    /// Position within the repeated period.
    phase: usize,
    /// Samples concealed so far in this episode (drives the fade).
    done: usize,
    fade: usize,
    active: bool,
    /// The episode covered missing audio, so resuming needs a fade-in even from silence.
    after_loss: bool,
    /// Real audio has been played; before that there is nothing to continue.
    has_audio: bool,
}

impl Concealer {
    pub(super) fn new(frame: usize) -> Self {
        Self {
            frame,
            history: vec![0; frame],
            source: vec![0; frame],
            period: frame,
            phase: 0,
            done: 0,
            fade: 4 * frame,
            active: false,
            after_loss: false,
            has_audio: false,
        }
    }

    /// Forgets all audio.
    pub(super) fn reset(&mut self) {
        self.history.fill(0);
        self.active = false;
        self.after_loss = false;
        self.has_audio = false;
    }

    /// True while concealing (since the last real sample).
    pub(super) fn active(&self) -> bool {
        self.active
    }

    /// The silence being concealed is deliberate (a new talkspurt was anchored): resuming needs no
    /// fade-in unless the concealment is still audible.
    pub(super) fn forgive_loss(&mut self) {
        self.after_loss = false;
    }

    fn audible(&self) -> bool {
        self.has_audio && self.done < self.fade
    }

    /// Fills `out` with concealment; `before` is the output of this frame so far. Returns whether any
    /// of it is audible (not yet faded out).
    pub(super) fn fill(&mut self, before: &[i16], out: &mut [i16], cause: Cause) -> bool {
        if !self.active {
            self.begin(before);
        }
        if cause == Cause::Missing {
            self.after_loss = true;
        }
        let audible = self.audible();
        for sample in out.iter_mut() {
            *sample = self.next_sample();
        }
        audible
    }

    fn begin(&mut self, before: &[i16]) {
        self.active = true;
        self.phase = 0;
        self.done = 0;
        if !self.has_audio {
            self.done = self.fade;
            return;
        }
        // The frame of audio that ends where the concealment starts.
        let split = before.len().min(self.frame);
        let keep = self.frame - split;
        self.source[..keep].copy_from_slice(&self.history[split..]);
        self.source[keep..].copy_from_slice(&before[before.len() - split..]);
        self.period = pitch_period(&self.source);
    }

    fn next_sample(&mut self) -> i16 {
        if self.done >= self.fade {
            return 0;
        }
        let base = self.source[self.frame - self.period + self.phase];
        self.phase += 1;
        if self.phase == self.period {
            self.phase = 0;
        }
        let left = (self.fade - self.done) as i64;
        self.done += 1;
        // |base| * left / fade <= |base|: always fits.
        (i64::from(base) * left / self.fade as i64) as i16
    }

    /// Real audio resumes with `real`: ends the episode, blending the concealment into the first few
    /// milliseconds when it is still audible, or fading in from silence after a loss.
    pub(super) fn resume(&mut self, real: &mut [i16]) {
        if !self.active {
            return;
        }
        self.active = false;
        if !self.audible() && !self.after_loss {
            return;
        }
        self.after_loss = false;
        let len = (self.frame / 4).max(1);
        for (k, sample) in real.iter_mut().take(len).enumerate() {
            let w = (k + 1) as i64;
            let concealed = i64::from(self.next_sample());
            let blended =
                (i64::from(*sample) * w + concealed * (len as i64 + 1 - w)) / (len as i64 + 1);
            *sample = blended as i16;
        }
    }

    /// Remembers the frame just output; `real` says it carried stream audio.
    pub(super) fn end_frame(&mut self, out: &[i16], real: bool) {
        self.history.copy_from_slice(out);
        self.has_audio |= real;
    }
}

impl std::fmt::Debug for Concealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Concealer")
            .field("active", &self.active)
            .field("period", &self.period)
            .field("done", &self.done)
            .field("has_audio", &self.has_audio)
            .finish_non_exhaustive()
    }
}

/// The pitch period (2.5 to 15 ms) whose repetition best continues `frame` (20 ms): the lag that
/// maximises the normalised correlation of the last 5 ms with the 5 ms one lag earlier. A whole
/// frame when nothing correlates (noise, silence).
fn pitch_period(frame: &[i16]) -> usize {
    let n = frame.len();
    let window = n / 4;
    let min_lag = (n / 8).max(1);
    let max_lag = n - window;
    if window == 0 || min_lag > max_lag {
        return n.max(1);
    }
    let target = &frame[n - window..];
    let mut best = n;
    let (mut best_corr, mut best_energy) = (0i128, 1i128);
    for lag in min_lag..=max_lag {
        let candidate = &frame[n - window - lag..n - lag];
        let (corr, energy) = target
            .iter()
            .zip(candidate)
            .fold((0i64, 0i64), |(c, e), (&t, &x)| {
                (
                    c + i64::from(t) * i64::from(x),
                    e + i64::from(x) * i64::from(x),
                )
            });
        if corr <= 0 || energy == 0 {
            continue;
        }
        // corr / sqrt(energy) > best_corr / sqrt(best_energy), without roots.
        let (corr, energy) = (i128::from(corr), i128::from(energy));
        if corr * corr * best_energy > best_corr * best_corr * energy {
            best = lag;
            best_corr = corr;
            best_energy = energy;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(len: usize, period: usize, offset: usize) -> Vec<i16> {
        (0..len)
            .map(|i| {
                let phase = ((i + offset) % period) as f64 / period as f64;
                (8_000.0 * (phase * std::f64::consts::TAU).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn finds_the_pitch_period() {
        assert_eq!(pitch_period(&tone(160, 40, 0)), 40);
        assert_eq!(pitch_period(&tone(160, 57, 3)), 57);
        assert_eq!(pitch_period(&[0; 160]), 160);
        assert_eq!(pitch_period(&[5; 3]), 3);
        assert_eq!(pitch_period(&[]), 1);
    }

    #[test]
    fn continues_then_fades_to_silence() {
        let mut conceal = Concealer::new(160);
        let audio = tone(160, 40, 0);
        conceal.end_frame(&audio, true);
        let mut out = [0i16; 160];
        assert!(conceal.fill(&[], &mut out, Cause::Missing));
        // The first samples continue the tone almost at full level.
        let expected = tone(200, 40, 0);
        for (k, &s) in out.iter().take(20).enumerate() {
            assert!(
                (i32::from(s) - i32::from(expected[160 + k])).abs() < 300,
                "{k}: {s}"
            );
        }
        let mut levels = vec![];
        for _ in 0..5 {
            let audible = conceal.fill(&[], &mut out, Cause::Missing);
            levels.push((
                audible,
                out.iter().map(|s| i32::from(*s).abs()).max().unwrap_or(0),
            ));
        }
        assert!(levels[0].1 > levels[1].1 && levels[1].1 > levels[2].1);
        assert_eq!(levels[3], (false, 0));
        assert_eq!(levels[4], (false, 0));
    }

    #[test]
    fn resume_fades_in_after_loss_but_not_after_a_deliberate_gap() {
        let mut conceal = Concealer::new(160);
        conceal.end_frame(&tone(160, 40, 0), true);
        let mut out = [0i16; 160];
        for _ in 0..5 {
            conceal.fill(&[], &mut out, Cause::Missing);
        }
        let mut real = [10_000i16; 160];
        conceal.resume(&mut real);
        assert!(real[0] < 1_000 && real[39] > 9_000 && real[40] == 10_000);

        for _ in 0..5 {
            conceal.fill(&[], &mut out, Cause::Missing);
        }
        conceal.forgive_loss();
        let mut real = [10_000i16; 160];
        conceal.resume(&mut real);
        assert_eq!(real, [10_000; 160]);
    }

    #[test]
    fn nothing_to_conceal_before_audio() {
        let mut conceal = Concealer::new(160);
        let mut out = [7i16; 160];
        assert!(!conceal.fill(&[], &mut out, Cause::Gap));
        assert_eq!(out, [0; 160]);
        let mut real = [100i16; 160];
        conceal.resume(&mut real);
        assert_eq!(real, [100; 160]);
    }
}
