//! Whole calls over the Twilio media-stream protocol, in process on tokio's paused clock: an emulated
//! carrier (the softphone's peer) talks to the call loop with the demo agent, the receptionist policy and
//! instant fake speech backends. The real-engine version is `call_embedded.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::speech;
use dialtone::loadtest::fake_deps;
use dialtone::softphone::{CallRecording, Utterance};
use dialtone_media::SampleRate;
use dialtone_telephony::agent::AgentProfile;
use dialtone_telephony::backend::fake::{InstantTts, ScriptedStt};
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{CallProviders, ProviderRegistry};
use dialtone_telephony::backend::{Dialogue, DialogueProvider, ReplyStream};
use dialtone_telephony::call::{
    AgentDirectory, CallDeps, CallProgress, CallReport, FixedClock, Role,
};
use dialtone_telephony::dialogue::LocalTime;

/// The demo agent with instant backends, on a clock stopped at Wednesday noon in Portland
/// (2025-06-11T19:00:00Z) so no answer depends on when the test runs.
fn deps(script: &[&str]) -> CallDeps {
    let mut deps = fake_deps(std::path::Path::new("agents"), script).expect("demo agents load");
    deps.clock = Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(1_749_668_400)));
    deps
}

/// Runs one call: the caller says `utterances` to the demo agent's number.
async fn call(script: &[&str], utterances: &[Utterance]) -> (CallRecording, CallReport) {
    common::run_call(Arc::new(deps(script)), "+15035550142", utterances).await
}

/// The agent's lines after the greeting, on a call at `at` where the caller asks `question`.
async fn answers_at(at: SystemTime, question: &str) -> Vec<String> {
    let mut deps = deps(&[question]);
    deps.clock = Arc::new(FixedClock(at));
    let (_, report) = common::run_call(
        Arc::new(deps),
        "+15035550142",
        &[Utterance::after_agent(speech(1.5))],
    )
    .await;
    report
        .transcript
        .iter()
        .filter(|e| e.role == Role::Agent)
        .skip(1)
        .map(|e| e.text.clone())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn answers_the_saturday_question_from_the_facts() {
    let (rec, report) = call(
        &["What time do you open on Saturday?"],
        &[Utterance::after_agent(speech(1.5))],
    )
    .await;
    assert!(rec.protocol_errors.is_empty(), "{:?}", rec.protocol_errors);
    let lines: Vec<_> = report
        .transcript
        .iter()
        .map(|e| (e.role, e.text.as_str()))
        .collect();
    assert_eq!(lines[0].0, Role::Agent, "greeting first: {lines:?}");
    assert!(lines[0].1.contains("Bright Smile Dental"));
    assert_eq!(
        lines[1],
        (Role::Caller, "What time do you open on Saturday?")
    );
    assert!(
        lines[2].1.contains("9 AM") && lines[2].1.contains("1 PM"),
        "{lines:?}"
    );
    assert!(rec.marks > 0, "marks follow agent audio");
    // End of caller speech -> first agent audio heard (VAD stop, end-of-turn wait, one frame).
    let latency = rec.latencies[0].expect("the agent answered");
    assert!(latency < Duration::from_millis(800), "{latency:?}");
    // With instant backends, the runtime's own share: decision -> first frame on the wire.
    let turn = report.turns.first().expect("one answered turn").latency();
    let own = turn.decision_to_frame_ms.expect("all milestones reached");
    assert!(own <= 5.0, "{turn:?}");
}

#[tokio::test(start_paused = true)]
async fn barge_in_clears_within_100_ms_and_history_keeps_what_was_heard() {
    let barge = Utterance {
        audio: speech(1.2),
        barge_in_after: Some(Duration::from_millis(300)),
    };
    let (rec, report) = call(&["Do you take Delta Dental?"], &[barge]).await;
    let clear = rec.clear_after[0].expect("the server cleared the carrier's buffer");
    assert!(clear <= Duration::from_millis(100), "clear after {clear:?}");
    let greeting = report
        .transcript
        .iter()
        .find(|e| e.role == Role::Agent)
        .expect("greeting in history");
    assert!(greeting.interrupted, "{:?}", report.transcript);
    // About 0.4 s of a 1 s greeting was heard (60 ms a word): a few words, not the whole line.
    let words = greeting.text.split_whitespace().count();
    assert!((1..10).contains(&words), "heard: {:?}", greeting.text);
    assert!(
        "Thank you for calling Bright Smile Dental, this is the front desk. How can I help you today?"
            .starts_with(&greeting.text),
        "{:?}",
        greeting.text
    );
    let answer = report
        .transcript
        .iter()
        .rev()
        .find(|e| e.role == Role::Agent)
        .expect("answer");
    assert!(
        answer.text.contains("Delta Dental"),
        "{:?}",
        report.transcript
    );
}

#[tokio::test(start_paused = true)]
async fn goodbye_hangs_up_after_the_closing_line() {
    let (rec, report) = call(
        &["No, that's all, thank you. Bye!"],
        &[Utterance::after_agent(speech(1.0))],
    )
    .await;
    assert_eq!(
        report.end,
        dialtone_telephony::call::CallEnd::AgentHungUp,
        "{:?}",
        report.transcript
    );
    assert!(
        rec.agent_spans.len() >= 2,
        "greeting and closing line were heard"
    );
}

#[tokio::test(start_paused = true)]
async fn open_now_follows_the_clinics_clock() {
    // 2025-06-14T17:00:00Z: Saturday 10:00 in Portland, within Saturday's 9 AM to 1 PM.
    let saturday_morning = UNIX_EPOCH + Duration::from_secs(1_749_920_400);
    let lines = answers_at(saturday_morning, "Are you open right now?").await;
    assert_eq!(lines, ["Yes, we're open now until 1 PM today."]);
}

#[tokio::test(start_paused = true)]
async fn today_is_the_clinics_day_not_utcs() {
    // 2025-06-15T03:30:00Z: already Sunday in UTC (closed), still Saturday 20:30 in Portland.
    let saturday_evening = UNIX_EPOCH + Duration::from_secs(1_749_958_200);
    let lines = answers_at(saturday_evening, "Are you open today?").await;
    let answer = lines.concat();
    assert!(
        answer.contains("Saturday") && !answer.contains("Sunday"),
        "{lines:?}"
    );
    let lines = answers_at(saturday_evening, "Are you open now?").await;
    assert_eq!(
        lines,
        ["We're closed for the day. We open again on Monday at 8 AM."]
    );
}

/// The receptionist, noting every request it is asked to answer.
#[derive(Debug, Default)]
struct Recording(Arc<Mutex<Vec<String>>>);

struct RecordingDialogue(Box<dyn Dialogue>, Arc<Mutex<Vec<String>>>);

impl DialogueProvider for Recording {
    fn start(&self, agent: Arc<AgentProfile>, caller: Option<String>) -> Box<dyn Dialogue> {
        Box::new(RecordingDialogue(
            ReceptionistProvider.start(agent, caller),
            Arc::clone(&self.0),
        ))
    }
}

impl Dialogue for RecordingDialogue {
    fn greeting(&mut self) -> ReplyStream {
        self.0.greeting()
    }
    fn respond(&mut self, transcript: &str, now: Option<LocalTime>) -> ReplyStream {
        self.1
            .lock()
            .expect("not poisoned")
            .push(transcript.to_owned());
        self.0.respond(transcript, now)
    }
    fn dtmf(&mut self, digit: char, now: Option<LocalTime>) -> Option<ReplyStream> {
        self.0.dtmf(digit, now)
    }
    fn interrupted(&mut self, heard: &str) {
        self.0.interrupted(heard);
    }
}

#[tokio::test(start_paused = true)]
async fn a_sentence_finished_over_an_early_answer_is_answered_as_one_request() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let mut deps = deps(&[]);
    deps.providers = ProviderRegistry::fixed(CallProviders {
        stt: Arc::new(ScriptedStt::new(
            SampleRate::HZ_16000,
            ["What time do you", "open on Saturday?"].map(str::to_owned),
        )),
        tts: Arc::new(InstantTts::new(SampleRate::HZ_22050)),
        dialogue: Arc::new(Recording(Arc::clone(&requests))),
    });
    // The caller pauses after "What time do you", long enough to be answered, then goes on over the
    // answer's first syllables.
    let resume = Utterance {
        audio: speech(1.0),
        barge_in_after: Some(Duration::from_millis(200)),
    };
    let (_rec, report) = common::run_call(
        Arc::new(deps),
        "+15035550142",
        &[Utterance::after_agent(speech(0.8)), resume],
    )
    .await;
    let asked = requests.lock().expect("not poisoned").clone();
    assert_eq!(
        asked,
        ["What time do you", "What time do you open on Saturday?"],
        "{:?}",
        report.transcript
    );
    let answer = report
        .transcript
        .iter()
        .rev()
        .find(|e| e.role == Role::Agent)
        .expect("answer");
    assert!(answer.text.contains("9 AM"), "{:?}", report.transcript);
}

/// Passes lookups through and keeps what the call loop reports as the call goes.
#[derive(Debug)]
struct Watching {
    inner: Arc<dyn AgentDirectory>,
    seen: Mutex<Vec<(String, String)>>,
}

impl AgentDirectory for Watching {
    fn by_number(&self, number: &str) -> Option<Arc<AgentProfile>> {
        self.inner.by_number(number)
    }
    fn by_id(&self, id: &str) -> Option<Arc<AgentProfile>> {
        self.inner.by_id(id)
    }
    fn call_progress(&self, call_id: &str, progress: CallProgress<'_>) {
        let what = match progress {
            CallProgress::Said(entry) => format!("{:?}: {}", entry.role, entry.text),
            CallProgress::Turn { number, latency } => {
                format!("turn {number}: {:?}", latency.first_frame_ms)
            }
        };
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((call_id.to_owned(), what));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_directory_hears_each_line_and_turn_as_the_call_goes() {
    let mut deps = deps(&["What time do you open on Saturday?"]);
    let watching = Arc::new(Watching {
        inner: Arc::clone(&deps.directory),
        seen: Mutex::default(),
    });
    deps.directory = Arc::clone(&watching) as Arc<dyn AgentDirectory>;
    let (_, report) = common::run_call(
        Arc::new(deps),
        "+15035550142",
        &[Utterance::after_agent(speech(1.5))],
    )
    .await;
    let seen = watching.seen.lock().unwrap().clone();
    let call_id = report.call_id.clone().expect("the call has an id");
    assert!(seen.iter().all(|(id, _)| *id == call_id), "{seen:?}");
    let said: Vec<&str> = seen
        .iter()
        .map(|(_, what)| what.as_str())
        .filter(|w| !w.starts_with("turn "))
        .collect();
    let transcript: Vec<String> = report
        .transcript
        .iter()
        .map(|e| format!("{:?}: {}", e.role, e.text))
        .collect();
    assert_eq!(said, transcript, "every line, in order, as it was added");
    let first_frame = report.turns[0].latency().first_frame_ms;
    assert!(first_frame.is_some());
    let turn = format!("turn 1: {first_frame:?}");
    let at = seen
        .iter()
        .position(|(_, w)| *w == turn)
        .expect("turn 1 reported");
    let answer = seen
        .iter()
        .position(|(_, w)| w.starts_with("Agent: ") && w.contains("9 AM"))
        .expect("the answer reported");
    assert!(
        at < answer,
        "the turn is reported when its first frame goes out, before it ends"
    );
}
