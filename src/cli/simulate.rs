//! `dialtone simulate`: one scripted call's media on a virtual clock over an emulated network.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use dialtone::sim::call::{Scenario, run as run_scenario};
use dialtone::sim::netem::NetemConfig;

/// Options of `dialtone simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Impair the uplink: 5% bursty loss, 0-60 ms jitter, duplicates.
    #[arg(long)]
    pub lossy: bool,
    /// Seed for the network emulator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print every media event.
    #[arg(long)]
    pub verbose: bool,
}

/// Runs the simulation and prints the timeline.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    simulate(args.lossy, args.seed, args.verbose)
}

fn simulate(lossy: bool, seed: u64, verbose: bool) -> anyhow::Result<()> {
    let mut scenario = Scenario::two_questions();
    if lossy {
        scenario.uplink = NetemConfig::lossy(seed);
    } else {
        scenario.uplink.seed = seed;
    }
    let started = Instant::now();
    let report = run_scenario(&scenario).context("simulated call failed")?;
    let cpu = started.elapsed();
    let call_length: Duration = report.stt_frames as u32 * dialtone_media::FRAME;
    println!(
        "simulated {:.1} s call, uplink {}",
        call_length.as_secs_f64(),
        if lossy { "lossy" } else { "clean" }
    );
    for (t, event) in &report.events {
        let interesting = !matches!(
            event,
            dialtone_media::MediaEvent::Mark { .. }
                | dialtone_media::MediaEvent::SpeechStopped { .. }
        );
        if verbose || interesting {
            println!("  {:>7.3} s  {event:?}", t.as_secs_f64());
        }
    }
    let truth = scenario.speech_truth();
    for (i, (start, end)) in truth.iter().enumerate() {
        println!(
            "  caller utterance {}: {:.3} s - {:.3} s",
            i + 1,
            start.as_secs_f64(),
            end.as_secs_f64()
        );
    }
    println!("counters: {:#?}", report.stats);
    println!(
        "packets to caller {}, STT frames {}, uplink lost {}",
        report.packets_to_caller, report.stt_frames, report.uplink_lost
    );
    println!(
        "wall time {:.1} ms for {} frames: {:.2} us per 20 ms frame (including the simulated caller and network)",
        cpu.as_secs_f64() * 1e3,
        report.stt_frames,
        cpu.as_secs_f64() * 1e6 / report.stt_frames.max(1) as f64
    );
    Ok(())
}
