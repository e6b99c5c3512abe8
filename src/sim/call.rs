//! A whole call's media on a virtual clock: a scripted caller talks through an emulated network into a
//! `CallMedia`, and a scripted agent answers each end of turn. Used by scenario tests and
//! `dialtone simulate`.

use std::time::{Duration, Instant};

use dialtone_media::audio::FRAME;
use dialtone_media::codec::{Codec, Encoder};
use dialtone_media::rtp::RtpSender;
use dialtone_media::{CallMedia, CallMediaConfig, Input, MediaEvent, Output, SampleRate, TurnId};

use super::netem::{Netem, NetemConfig};
use super::signals::voiced_into;

/// What the caller does, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerStep {
    /// Talk for this long.
    Speak(Duration),
    /// Stay quiet for this long.
    Pause(Duration),
}

/// A scripted call.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The caller's script, from the moment the call is answered.
    pub caller: Vec<CallerStep>,
    /// Caller -> Dialtone path.
    pub uplink: NetemConfig,
    /// How long the agent "thinks" after an end of turn before its audio starts.
    pub agent_think: Duration,
    /// How long each agent answer lasts.
    pub agent_answer: Duration,
    /// The agent greets first with an answer of this length (zero: no greeting).
    pub greeting: Duration,
    /// Media settings.
    pub media: CallMediaConfig,
}

impl Scenario {
    /// A caller who asks two questions over a clean line, with a short greeting first.
    pub fn two_questions() -> Self {
        Self {
            caller: vec![
                CallerStep::Pause(Duration::from_millis(2_500)),
                CallerStep::Speak(Duration::from_millis(1_500)),
                CallerStep::Pause(Duration::from_millis(3_000)),
                CallerStep::Speak(Duration::from_millis(1_200)),
                CallerStep::Pause(Duration::from_millis(3_000)),
            ],
            uplink: NetemConfig::clean(),
            agent_think: Duration::from_millis(300),
            agent_answer: Duration::from_millis(1_500),
            greeting: Duration::from_millis(2_000),
            media: CallMediaConfig::pcmu(),
        }
    }

    /// Start and end of each caller utterance, relative to the call start.
    pub fn speech_truth(&self) -> Vec<(Duration, Duration)> {
        let mut t = Duration::ZERO;
        let mut out = Vec::new();
        for step in &self.caller {
            match *step {
                CallerStep::Speak(d) => {
                    out.push((t, t + d));
                    t += d;
                }
                CallerStep::Pause(d) => t += d,
            }
        }
        out
    }

    fn length(&self) -> Duration {
        self.caller
            .iter()
            .map(|s| match *s {
                CallerStep::Speak(d) | CallerStep::Pause(d) => d,
            })
            .sum()
    }
}

/// What happened in a simulated call.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every media event with its time since the call start.
    pub events: Vec<(Duration, MediaEvent)>,
    /// The engine's counters at the end.
    pub stats: dialtone_media::call_media::CallMediaStats,
    /// Packets the engine sent toward the caller.
    pub packets_to_caller: u64,
    /// Frames handed to STT.
    pub stt_frames: u64,
    /// Caller packets lost on the uplink.
    pub uplink_lost: u64,
}

impl Report {
    /// Times of events matching `pred`.
    pub fn times(&self, pred: impl Fn(&MediaEvent) -> bool) -> Vec<Duration> {
        self.events
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(t, _)| *t)
            .collect()
    }
}

/// Runs a scenario to its end on a virtual clock.
pub fn run(scenario: &Scenario) -> Result<Report, dialtone_media::call_media::MediaError> {
    let start = Instant::now();
    let mut media = CallMedia::new(scenario.media.clone(), start)?;
    let mut uplink = Netem::new(scenario.uplink);
    let mut encoder = Encoder::new(Codec::Pcmu)?;
    let mut rtp = RtpSender::new(0xCA11E4, 4_000, 90_000);
    let agent_rate = scenario.media.agent_rate;
    let mut report = Report {
        events: Vec::new(),
        stats: media.stats(),
        packets_to_caller: 0,
        stt_frames: 0,
        uplink_lost: 0,
    };
    let end = start + scenario.length();
    let truth = scenario.speech_truth();
    // Caller packets leave 7 ms off the engine's tick grid, as a real peer's clock would.
    let mut next_send = start + Duration::from_millis(7);
    let mut sent_samples = 0usize;
    let mut pcm = [0i16; 160];
    let mut payload = [0u8; 160];
    let mut packet = [0u8; 172];
    let mut turn = 0u64;
    let mut agent_due = (!scenario.greeting.is_zero()).then_some((start, scenario.greeting));
    let mut now = start;
    let mut deadline = start;
    while now < end {
        if next_send <= now {
            let t = next_send - start;
            let speaking = truth.iter().any(|&(a, b)| t >= a && t < b);
            if speaking {
                voiced_into(SampleRate::HZ_8000, 130.0, sent_samples, &mut pcm);
            } else {
                pcm.fill(0);
            }
            sent_samples += 160;
            let len = encoder.encode(&pcm, &mut payload)?;
            let header = rtp.next_header(0, false, 160);
            let n = header.write_packet(&payload[..len], &mut packet)?;
            uplink.send(&packet[..n], now);
            next_send += FRAME;
        }
        while let Some((at, bytes)) = uplink.recv(now) {
            media.handle_input(Input::Rtp(&bytes), at)?;
        }
        if let Some((at, length)) = agent_due
            && at <= now
        {
            turn += 1;
            let samples = agent_rate.samples_in(length) as usize;
            let mut answer = vec![0i16; samples];
            voiced_into(agent_rate, 110.0, 0, &mut answer);
            media.handle_input(
                Input::AgentAudio {
                    turn: TurnId(turn),
                    pcm: &answer,
                    mark: Some(turn),
                },
                now,
            )?;
            media.handle_input(Input::AgentTurnEnd(TurnId(turn)), now)?;
            agent_due = None;
        }
        if deadline <= now {
            media.handle_timeout(now);
        }
        loop {
            match media.poll_output() {
                Output::Event(event) => {
                    if matches!(event, MediaEvent::EndOfTurn { .. }) {
                        agent_due = Some((now + scenario.agent_think, scenario.agent_answer));
                    }
                    report.events.push((now - start, event));
                }
                Output::ToStt(_) => report.stt_frames += 1,
                Output::ToCaller(_) => report.packets_to_caller += 1,
                Output::Timeout(at) => {
                    deadline = at;
                    break;
                }
            }
        }
        let mut next = deadline.min(next_send);
        if let Some(at) = uplink.next_arrival() {
            next = next.min(at);
        }
        if let Some((at, _)) = agent_due {
            next = next.min(at);
        }
        now = next.max(now + Duration::from_micros(1));
    }
    report.stats = media.stats();
    report.uplink_lost = uplink.lost;
    Ok(report)
}
