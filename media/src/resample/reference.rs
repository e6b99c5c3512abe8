//! rubato's own sinc resampler with the same filter, as the reference our kernel is held to.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{
    Async, FixedAsync, Resampler as _, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::FilterParams;
use crate::audio::SampleRate;

/// Resamples `input` (a whole number of 20 ms frames) with rubato, trimming its delay so the output lines up
/// with the input.
pub(super) fn rubato_resample(
    from: SampleRate,
    to: SampleRate,
    p: FilterParams,
    input: &[i16],
) -> Vec<i16> {
    let g = gcd(from.hz(), to.hz());
    let ratio = f64::from(to.hz()) / f64::from(from.hz());
    let mut params = SincInterpolationParameters::new(p.sinc_len, WindowFunction::BlackmanHarris)
        .oversampling_factor((to.hz() / g) as usize)
        .interpolation(SincInterpolationType::Nearest);
    params.f_cutoff = p.cutoff;
    let chunk = from.frame_samples();
    let mut r = Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input)
        .expect("rubato accepts the test's parameters");
    let delay = r.output_delay();
    let mut out = Vec::new();
    let mut outbuf = vec![vec![0f32; r.output_frames_max()]];
    for frame in input.chunks(chunk) {
        let inbuf = vec![frame.iter().map(|&s| f32::from(s)).collect::<Vec<f32>>()];
        let a = SequentialSliceOfVecs::new(&inbuf, 1, frame.len()).expect("one channel");
        let len = outbuf[0].len();
        let mut b = SequentialSliceOfVecs::new_mut(&mut outbuf, 1, len).expect("one channel");
        let (_, n) = r
            .process_into_buffer(&a, &mut b, None)
            .expect("rubato processes");
        out.extend(outbuf[0][..n].iter().map(|&s| s.round() as i16));
    }
    out.drain(..delay.min(out.len()));
    out
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
