//! A real softphone calls an agent: baresip (headless: `aufile` as microphone, `sndfile` recording what
//! it hears) dials the demo agent over SIP with G.711, and records what it hears. The recording is transcribed
//! with the embedded recogniser and must carry the agent's greeting, spoken by flite through the SIP
//! leg's RTP.
//!
//! Needs baresip (scripts/setup-debian.sh) and the models (`dialtone models install`). Without the
//! models it is skipped unless `DIALTONE_REQUIRE_MODELS=1`; without baresip, unless `CI` is set.

mod common;

#[path = "support/models.rs"]
mod support_models;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dialtone::defaults::{ProviderChoice, build_deps};
use dialtone_media::resample::resample_clip;
use dialtone_media::wav::{read_wav, write_wav};
use dialtone_media::{Pcm, SampleRate};
use dialtone_telephony::engines::whisper::WhisperEngine;
use dialtone_telephony::sip::{PortRange, SipConfig, SipServer};
use support_models::models_or_skip;

const BARESIP_PORT: u16 = 15_090;

/// A headless baresip configuration in `dir`: silence as the microphone (`aufile`), ALSA's null device
/// as the speaker, `sndfile` dumping what it decodes into `dir`, G.711 μ-law only, one account that
/// registers nowhere.
fn baresip_config(dir: &Path) -> std::io::Result<()> {
    let silence = Pcm::new(SampleRate::HZ_8000, vec![0; 8_000 * 30]);
    std::fs::write(dir.join("silence.wav"), write_wav(&silence))?;
    let config = format!(
        "poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{BARESIP_PORT}\n\
         audio_player\t\talsa,null\n\
         audio_source\t\taufile,{silence}\n\
         audio_alert\t\taufile,/dev/null\n\
         ausrc_srate\t\t8000\n\
         auplay_srate\t\t8000\n\
         ausrc_channels\t\t1\n\
         auplay_channels\t\t1\n\
         rtp_ports\t\t17000-17100\n\
         module_path\t\t/usr/lib/baresip/modules\n\
         module\t\t\tg711.so\n\
         module\t\t\taufile.so\n\
         module\t\t\talsa.so\n\
         module\t\t\tsndfile.so\n\
         snd_path\t\t{dir}\n\
         module_app\t\taccount.so\n\
         module_app\t\tmenu.so\n",
        dir = dir.display(),
        silence = dir.join("silence.wav").display(),
    );
    std::fs::write(dir.join("config"), config)?;
    std::fs::write(
        dir.join("accounts"),
        "<sip:tester@127.0.0.1>;regint=0;audio_codecs=PCMU\n",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_hears_the_greeting() {
    let Some(paths) = models_or_skip() else {
        return;
    };
    if !common::sip::have("baresip") {
        return;
    }
    // flite is deterministic, so the recording says the same each run.
    let choice = ProviderChoice {
        tts: "flite".into(),
        ..ProviderChoice::default()
    };
    let deps = Arc::new(build_deps(Path::new("agents"), &choice).expect("providers start"));
    let config = SipConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        accept_any: true,
        rtp_ports: PortRange(34_000..=34_099),
        ..SipConfig::default()
    };
    let sip = SipServer::start(config, deps, None)
        .await
        .expect("SIP starts");

    let dir = std::env::temp_dir().join(format!("dialtone-baresip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    baresip_config(&dir).expect("config written");
    let target = format!("/dial sip:15035550142@{}", sip.local_addr());
    // baresip quits by itself after 12 s: the greeting takes about 5.
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .args(["-e", &target, "-t", "12"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await
    .expect("baresip quits in time")
    .expect("baresip runs");
    assert!(status.success(), "baresip: {status}");

    // sndfile names its dumps by the time; `-dec` is the decoded audio from the agent.
    let dump = std::fs::read_dir(&dir)
        .expect("temp dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .expect("baresip recorded the call");
    let heard = std::fs::read(dump).expect("recording readable");
    let heard = read_wav(&heard).expect("a WAV");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        heard.samples().iter().any(|&s| s.unsigned_abs() > 1000),
        "the recording is not silent"
    );
    let mut stt = WhisperEngine::load(&paths.whisper).expect("model loads");
    let pcm_16k = resample_clip(&heard, SampleRate::HZ_16000).expect("resample");
    let text = stt
        .transcribe(pcm_16k.samples())
        .expect("transcribes")
        .to_lowercase();
    eprintln!("baresip heard: {text:?}");
    // "Thank you for calling Bright Smile Dental, this is the front desk. How can I help you today?"
    assert!(text.contains("calling"), "{text:?}");
    assert!(
        text.contains("smile") || text.contains("front desk") || text.contains("help"),
        "{text:?}"
    );
}
