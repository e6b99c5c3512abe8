//! The per-frame resampling kernel: a rational polyphase FIR specialised for 20 ms chunks.
//!
//! For rates `from` and `to` with `to/from = L/M` reduced, a 20 ms chunk of input yields exactly one 20 ms
//! chunk of output, and the pattern of (input offset, filter phase) per output sample repeats every
//! chunk. So the schedule is computed once, and each output sample is one contiguous dot product of
//! `taps` input samples with one phase's coefficients: no position arithmetic, no rounding calls and no
//! FIFO on the hot path. This is the filter rubato's `Nearest` sinc resampler computes, at a fraction of
//! its per-sample overhead; the tests check the two agree.
//!
//! Coefficient tables depend only on the pair of rates, so calls share them.

use std::f64::consts::PI;
use std::sync::{Arc, Mutex, OnceLock};

use crate::audio::SampleRate;

/// The filter for one pair of rates, shared by every call that uses the pair.
#[derive(Debug)]
pub(super) struct Design {
    /// Input samples per output sample's dot product (a multiple of 8).
    pub(super) taps: usize,
    /// `phases * taps` coefficients, phase-major, each phase in input order (oldest sample first).
    coefficients: Vec<f32>,
    /// Per output sample of a chunk: (first input index in the history buffer, coefficient offset).
    schedule: Vec<(u32, u32)>,
    /// Filter delay in output samples, rounded.
    pub(super) delay: u64,
    /// For integer upsampling (M = 1): the normalised prototype in tap order and the factor L, for the
    /// transposed form.
    upsampling: Option<(Vec<f32>, usize)>,
}

/// Builds (or fetches) the design for `from -> to` with `taps` input taps, cutoff at `cutoff_hz`.
pub(super) fn design(from: SampleRate, to: SampleRate, taps: usize, cutoff_hz: f64) -> Arc<Design> {
    type Cache = Mutex<Vec<((u32, u32, usize, u64), Arc<Design>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (from.hz(), to.hz(), taps, cutoff_hz.to_bits());
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    // A poisoned lock only means another thread panicked mid-insert; the Vec is still valid.
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = cache.iter().find(|(k, _)| *k == key) {
        return Arc::clone(d);
    }
    let d = Arc::new(build(from, to, taps, cutoff_hz));
    cache.push((key, Arc::clone(&d)));
    d
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn build(from: SampleRate, to: SampleRate, taps: usize, cutoff_hz: f64) -> Design {
    let (fin, fout) = (u64::from(from.hz()), u64::from(to.hz()));
    let g = gcd(fin, fout);
    let (l, m) = ((fout / g) as usize, (fin / g) as usize);
    // Prototype low-pass at the upsampled rate L * from: a Blackman-Harris windowed sinc. Like rubato's,
    // the window is periodic and centred on tap n/2, so the delay is a whole number of upsampled samples.
    let n = l * taps;
    let centre = n as f64 / 2.0;
    let fc = cutoff_hz / (l as f64 * fin as f64);
    let prototype: Vec<f64> = (0..n)
        .map(|j| {
            let x = j as f64 - centre;
            let sinc = if x == 0.0 {
                2.0 * fc
            } else {
                (2.0 * PI * fc * x).sin() / (PI * x)
            };
            let w = 2.0 * PI * j as f64 / n as f64;
            let window =
                0.35875 - 0.48829 * w.cos() + 0.14128 * (2.0 * w).cos() - 0.01168 * (3.0 * w).cos();
            sinc * window
        })
        .collect();
    // Phase p sees prototype taps p, p+L, p+2L, ... against inputs newest first; store oldest first and
    // normalise each phase to unit DC gain so the ratio pattern does not modulate the level.
    let mut coefficients = vec![0f32; l * taps];
    for p in 0..l {
        let phase: Vec<f64> = (0..taps)
            .map(|k| prototype[p + (taps - 1 - k) * l])
            .collect();
        let sum: f64 = phase.iter().sum();
        for (dst, c) in coefficients[p * taps..][..taps].iter_mut().zip(phase) {
            *dst = (c / sum) as f32;
        }
    }
    let out_len = to.frame_samples();
    let schedule = (0..out_len)
        .map(|i| {
            let pos = i * m;
            let (base, phase) = (pos / l, pos % l);
            // History holds taps-1 older samples before the chunk: input `base` sits at taps-1+base, and
            // the dot product covers the `taps` samples ending there.
            (base as u32, (phase * taps) as u32)
        })
        .collect();
    let delay = (n as f64 / (2.0 * m as f64)).round() as u64;
    // Output n = L*i + p takes prototype taps p + kL against x[i - k]; turned around, input j adds
    // prototype[m] * x[j] to output L*j + m. Same filter, but each input touches a contiguous run of
    // outputs: vector multiply-adds and no horizontal sums.
    let upsampling = (m == 1).then(|| {
        let mut proto = vec![0f32; n];
        for p in 0..l {
            for k in 0..taps {
                proto[p + k * l] = coefficients[p * taps + (taps - 1 - k)];
            }
        }
        (proto, l)
    });
    Design {
        taps,
        coefficients,
        schedule,
        delay,
        upsampling,
    }
}

/// One call's resampling state: the shared design and the input history.
#[derive(Debug)]
pub(super) struct Polyphase {
    design: Arc<Design>,
    history: Vec<f32>,
    /// Transposed form only: output accumulators for this chunk and the tail that spills into the next.
    pending: Vec<f32>,
    /// The CPU has AVX2 and FMA: run the 8-lane fused kernel.
    wide: bool,
}

impl Polyphase {
    pub(super) fn new(design: Arc<Design>, chunk_in: usize) -> Self {
        let history = vec![0.0; design.taps - 1 + chunk_in];
        let pending = match &design.upsampling {
            Some((proto, l)) => vec![0.0; chunk_in * l + proto.len()],
            None => Vec::new(),
        };
        Self {
            design,
            history,
            pending,
            wide: wide_kernel_available(),
        }
    }

    pub(super) fn delay(&self) -> u64 {
        self.design.delay
    }

    /// `input` is one 20 ms chunk at the input rate, `output` one at the output rate.
    pub(super) fn process(&mut self, input: &[i16], output: &mut [i16]) {
        // A silent chunk into a filter whose state is all zeros comes out silent and leaves the state as
        // it was: the same output the multiply-adds would give, without them. Carriers send digital
        // silence between utterances, so most caller chunks of a call take this path.
        if input.iter().fold(0, |any, &s| any | s) == 0 && self.state_is_silent() {
            output.fill(0);
            return;
        }
        self.process_full(input, output);
    }

    /// Whether every sample the filter still remembers is zero.
    fn state_is_silent(&self) -> bool {
        let remembered = match &self.design.upsampling {
            Some(_) => &self.pending[..],
            // The chunk part of the history is overwritten by the next input; only the older taps count.
            None => &self.history[..self.design.taps - 1],
        };
        // Or-ing the bits without the sign (-0.0 is silence too) vectorises where a short-circuiting
        // `all` would test one sample at a time.
        remembered
            .iter()
            .fold(0, |any, &v| any | (v.to_bits() << 1))
            == 0
    }

    /// [`Self::process`] without the silence shortcut.
    pub(super) fn process_full(&mut self, input: &[i16], output: &mut [i16]) {
        if let Some((proto, l)) = &self.design.upsampling {
            if self.wide {
                #[cfg(target_arch = "x86_64")]
                #[allow(unsafe_code)]
                // SAFETY: `wide` is only set when the running CPU reported AVX2 and FMA.
                unsafe {
                    upsample_avx2_fma(proto, *l, &mut self.pending, input, output)
                };
            } else {
                upsample::<false>(proto, *l, &mut self.pending, input, output);
            }
            return;
        }
        let taps = self.design.taps;
        let fresh = &mut self.history[taps - 1..];
        for (dst, &s) in fresh.iter_mut().zip(input) {
            *dst = f32::from(s);
        }
        if self.wide {
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            // SAFETY: `wide` is only set when the running CPU reported AVX2 and FMA.
            unsafe {
                filter_avx2_fma(&self.design, &self.history, output)
            };
        } else {
            filter::<4, false>(&self.design, &self.history, output);
        }
        let keep = self.history.len() - (taps - 1);
        self.history.copy_within(keep.., 0);
    }

    pub(super) fn reset(&mut self) {
        self.history.fill(0.0);
        self.pending.fill(0.0);
    }
}

fn wide_kernel_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The filter loop compiled for AVX2 and FMA: the same code as [`filter`], with 8-lane fused
/// multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn filter_avx2_fma(design: &Design, history: &[f32], output: &mut [i16]) {
    filter::<8, true>(design, history, output);
}

/// [`upsample`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn upsample_avx2_fma(
    proto: &[f32],
    l: usize,
    pending: &mut [f32],
    input: &[i16],
    output: &mut [i16],
) {
    upsample::<true>(proto, l, pending, input, output);
}

/// Transposed polyphase interpolation of one chunk: every input sample adds the scaled prototype into
/// the outputs it reaches; the first `output.len()` are then complete and the rest carry over.
#[inline(always)]
fn upsample<const FUSED: bool>(
    proto: &[f32],
    l: usize,
    pending: &mut [f32],
    input: &[i16],
    output: &mut [i16],
) {
    for (j, &x) in input.iter().enumerate() {
        let x = f32::from(x);
        for (acc, &c) in pending[j * l..][..proto.len()].iter_mut().zip(proto) {
            *acc = if FUSED {
                c.mul_add(x, *acc)
            } else {
                *acc + c * x
            };
        }
    }
    let done = output.len();
    for (out, &v) in output.iter_mut().zip(pending.iter()) {
        *out = to_i16(v);
    }
    pending.copy_within(done.., 0);
    let len = pending.len();
    pending[len - done..].fill(0.0);
}

/// Every output sample of a chunk: one dot product of `taps` history samples with its phase.
#[inline(always)]
fn filter<const W: usize, const FUSED: bool>(design: &Design, history: &[f32], output: &mut [i16]) {
    let taps = design.taps;
    for (out, &(start, offset)) in output.iter_mut().zip(&design.schedule) {
        let x = &history[start as usize..][..taps];
        let h = &design.coefficients[offset as usize..][..taps];
        *out = to_i16(dot::<W, FUSED>(x, h));
    }
}

/// Four independent `W`-lane accumulators, each one vector register: enough chains to hide the add
/// latency (two chains ran latency-bound at half the speed). Lanes never reassociate, so the compiler
/// vectorises without fast-math. `taps` is a multiple of 8, so the remainder is whole `W`-chunks.
#[inline(always)]
fn dot<const W: usize, const FUSED: bool>(x: &[f32], h: &[f32]) -> f32 {
    let mut acc = [[0f32; W]; 4];
    let (xc, hc) = (x.chunks_exact(4 * W), h.chunks_exact(4 * W));
    let (xr, hr) = (xc.remainder(), hc.remainder());
    for (xs, hs) in xc.zip(hc) {
        for (j, a) in acc.iter_mut().enumerate() {
            mac::<W, FUSED>(a, &xs[j * W..j * W + W], &hs[j * W..j * W + W]);
        }
    }
    for ((xs, hs), a) in xr
        .chunks_exact(W)
        .zip(hr.chunks_exact(W))
        .zip(acc.iter_mut())
    {
        mac::<W, FUSED>(a, xs, hs);
    }
    // Reduce as a tree: a serial chain of W scalar adds after every dot product cost more than the
    // multiply-adds themselves on short filters.
    let mut v = [0f32; W];
    for k in 0..W {
        v[k] = (acc[0][k] + acc[1][k]) + (acc[2][k] + acc[3][k]);
    }
    let mut width = W;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            v[k] += v[k + width];
        }
    }
    v[0]
}

#[inline(always)]
fn mac<const W: usize, const FUSED: bool>(acc: &mut [f32; W], x: &[f32], h: &[f32]) {
    for k in 0..W {
        // `mul_add` is one instruction only where FMA is enabled; elsewhere it would be a libm call.
        acc[k] = if FUSED {
            x[k].mul_add(h[k], acc[k])
        } else {
            acc[k] + x[k] * h[k]
        };
    }
}

/// Rounds half away from zero and saturates (`as` saturates), without a libm `round` call.
#[inline]
fn to_i16(v: f32) -> i16 {
    (if v >= 0.0 { v + 0.5 } else { v - 0.5 }) as i16
}
