//! The playing half: one frame per tick, concealment of what is missing, and steering the playout
//! delay towards the target.

use std::time::Instant;

use super::conceal::Cause;
use super::{JitterBuffer, Playout, duration};

/// Mean absolute level under which a frame is quiet whatever the talker's level (about -40 dBFS).
const QUIET_FLOOR: i64 = 300;
/// Pops to wait for a quiet frame before dropping whichever frame is due.
const QUIET_PATIENCE: u32 = 50;

impl JitterBuffer {
    /// Plays the next 20 ms into `out`, which must hold exactly `pcm_rate.frame_samples()` samples
    /// (any other length is filled with zeros and reported as [`Playout::Silence`], playing nothing).
    /// Call once per 20 ms tick with the tick's time.
    pub fn pop(&mut self, now: Instant, out: &mut [i16]) -> Playout {
        if out.len() != self.frame || self.ssrc.is_none() {
            out.fill(0);
            return Playout::Silence;
        }
        let now_us = self.micros_at(now);
        self.refresh_target();
        let min_rel = self.estimator.min_rel().unwrap_or(0);
        let delay = now_us - self.pos_us(self.play_pos) - min_rel;
        self.stats.current_delay = duration(delay);
        let excess = delay - self.target_us;
        let frame_us = self.frame_us();
        let frame = self.frame as i64;

        if excess >= frame_us {
            if self.is_gap_frame(self.play_pos) {
                // Too deep and in a silent gap: shorten the silence, the cheapest cut.
                self.advance_to(self.play_pos + frame);
                self.stats.dropped_for_latency += 1;
                self.excess_pops = 0;
            } else if let Some(playout) = self.try_drop_audio(out, excess) {
                return playout;
            }
        } else {
            self.excess_pops = 0;
        }
        if -excess >= frame_us / 2 && self.is_gap_frame(self.play_pos) {
            // Too shallow and in a silent gap: lengthen the silence, deepening for free.
            let audible = self.concealer.fill(&[], out, Cause::Gap);
            return self.finish(out, false, audible);
        }
        self.play_frame(out)
    }

    /// True when the frame at `pos` is all deliberate gap.
    fn is_gap_frame(&self, pos: i64) -> bool {
        self.storage.count_present(pos, self.frame) == 0
            && self.storage.count_gap(pos, self.frame) == self.frame
    }

    /// Drops audio when the frame due is quiet, when no quiet frame came for a while (one frame), or
    /// when the excess is large (all of it at once, as far as audio is buffered): plays the frame
    /// after the dropped ones instead, cross-faded from the frame due. Needs both frames whole.
    fn try_drop_audio(&mut self, out: &mut [i16], excess: i64) -> Option<Playout> {
        let f = self.frame as i64;
        let frame_us = self.frame_us();
        if self.concealer.active()
            || self.storage.count_present(self.play_pos, self.frame) != self.frame
        {
            return None;
        }
        let large = excess >= 3 * frame_us;
        let wanted = if large {
            (excess - frame_us / 2) / frame_us
        } else {
            1
        };
        let drop = wanted.min((self.max_end - self.play_pos) / f - 1);
        let next = self.play_pos + drop * f;
        if drop < 1 || self.storage.count_present(next, self.frame) != self.frame {
            return None;
        }
        self.storage.read(self.play_pos, out);
        let quiet = {
            let level = mean_abs(out);
            level < QUIET_FLOOR || level.saturating_mul(4) < self.level
        };
        if !quiet && !large && self.excess_pops < QUIET_PATIENCE {
            self.excess_pops += 1;
            return None;
        }
        self.excess_pops = 0;
        self.storage.read(next, &mut self.scratch);
        // Start on the frame due (continuous with the last output) and blend into the next kept.
        let len = (self.frame / 4).max(1) as i64;
        for (k, (sample, &kept)) in out.iter_mut().zip(&self.scratch).enumerate() {
            let w = k as i64 + 1;
            *sample = if w <= len {
                ((i64::from(*sample) * (len + 1 - w) + i64::from(kept) * w) / (len + 1)) as i16
            } else {
                kept
            };
        }
        self.advance_to(next + f);
        self.stats.dropped_for_latency += drop as u64;
        Some(self.finish(out, true, false))
    }

    /// Plays the frame at the playout point: stored audio where present, concealment elsewhere.
    /// Missing audio before audio that has arrived is a hole (lost) and is skipped; missing audio at
    /// the end of everything buffered is an underrun: concealed without advancing.
    fn play_frame(&mut self, out: &mut [i16]) -> Playout {
        let f = self.frame;
        let start = self.play_pos;
        let (mut i, mut real, mut missing, mut audible) = (0, false, false, false);
        let mut advance = f;
        while i < f {
            let at = start + i as i64;
            let present = self.storage.present_run(at, f - i);
            if present > 0 {
                let run = &mut out[i..i + present];
                self.storage.read(at, run);
                self.concealer.resume(run);
                real = true;
                i += present;
                continue;
            }
            let absent = self.storage.absent_run(at, f - i);
            let gap = self.storage.gap_run(at, absent);
            let (before, rest) = out.split_at_mut(i);
            if gap > 0 {
                audible |= self.concealer.fill(before, &mut rest[..gap], Cause::Gap);
                i += gap;
            } else if self.max_end > at {
                let hole = self.storage.non_gap_run(at, absent);
                audible |= self
                    .concealer
                    .fill(before, &mut rest[..hole], Cause::Missing);
                missing = true;
                i += hole;
            } else {
                audible |= self.concealer.fill(before, rest, Cause::Missing);
                advance = i;
                break;
            }
        }
        self.advance_to(start + advance as i64);
        if real {
            self.reset_stall();
        }
        if advance < f {
            self.stall_samples += f - advance;
            self.stall_frames += 1;
        }
        if missing {
            self.stats.lost += 1;
        }
        self.finish(out, real, audible)
    }

    fn finish(&mut self, out: &[i16], real: bool, audible: bool) -> Playout {
        self.concealer.end_frame(out, real);
        if real {
            self.stats.played += 1;
            self.level += (mean_abs(out) - self.level) / 8;
            Playout::Audio
        } else if audible {
            self.stats.concealed += 1;
            Playout::Concealed
        } else {
            Playout::Silence
        }
    }
}

fn mean_abs(samples: &[i16]) -> i64 {
    let sum: i64 = samples.iter().map(|&s| i64::from(s).abs()).sum();
    sum / samples.len().max(1) as i64
}
