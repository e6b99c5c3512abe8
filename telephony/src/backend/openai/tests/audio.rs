//! Transcriptions (multipart WAV per turn) and speech (streamed PCM).

use super::*;

/// The parts of a multipart body, as (headers, content).
fn multipart_parts<'a>(headers: &HeaderMap, body: &'a [u8]) -> Vec<(String, &'a [u8])> {
    let content_type = headers["content-type"].to_str().unwrap();
    let boundary = content_type.split("boundary=").nth(1).unwrap();
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes()).unwrap();
        parts.push((head, &content[..end - 2]));
        rest = &content[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn next_event(session: &mut Box<dyn crate::backend::SttSession>) -> SttEvent {
    std::future::poll_fn(|cx| session.poll_event(cx))
        .await
        .expect("the session goes on")
}

#[tokio::test]
async fn stt_posts_each_turn_as_a_wav_and_reports_in_order() {
    let (server, config) = Server::start(vec![
        Answer {
            // The one-second turn; the half-second one fails.
            when: Some(|body| body.len() > 32_000),
            ..ok(vec![br#"{"text": " Hello there. "}"#.to_vec()])
        },
        status(StatusCode::BAD_GATEWAY, ""),
    ])
    .await;
    let stt = OpenAiStt::new(config).unwrap();
    assert_eq!(stt.rate(), SampleRate::HZ_16000);
    let mut session = stt.open().unwrap();
    let speech = dialtone_media::synth::voiced(SampleRate::HZ_16000, 120.0, 16_000, 0);
    for frame in speech.chunks(320) {
        session.push_audio(PcmSlice {
            rate: SampleRate::HZ_16000,
            samples: frame,
        });
    }
    session.end_of_turn();
    session.push_audio(PcmSlice {
        rate: SampleRate::HZ_16000,
        samples: &[0; 320],
    });
    session.end_of_turn();
    session.push_audio(PcmSlice {
        rate: SampleRate::HZ_16000,
        samples: &speech[..8_000],
    });
    session.end_of_turn();

    assert_eq!(
        next_event(&mut session).await,
        SttEvent::Final("Hello there.".into())
    );
    assert_eq!(
        next_event(&mut session).await,
        SttEvent::Final(String::new())
    );
    assert!(matches!(
        next_event(&mut session).await,
        SttEvent::Error(BackendError::Failed { .. })
    ));

    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 2, "silence is not sent");
    let (headers, body) = requests
        .iter()
        .find(|(_, body)| body.len() > 32_000)
        .unwrap();
    let parts = multipart_parts(headers, body);
    let file = parts
        .iter()
        .find(|(head, _)| head.contains(r#"name="file""#))
        .expect("a file part");
    assert!(file.0.contains("filename="), "{}", file.0);
    let pcm = dialtone_media::wav::read_wav(file.1).expect("a valid WAV");
    assert_eq!(pcm.rate(), SampleRate::HZ_16000);
    assert_eq!(pcm.samples(), &speech[..]);
    let model = parts
        .iter()
        .find(|(head, _)| head.contains(r#"name="model""#))
        .expect("a model part");
    assert_eq!(model.1, b"stt-test");
}

#[test]
fn pcm_decoding_carries_an_odd_byte_over() {
    let samples: Vec<i16> = (0..200).map(|i| (i * 331 - 30_000) as i16).collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    for n in 1..9 {
        let mut decoder = PcmDecoder::default();
        let out: Vec<i16> = bytes.chunks(n).flat_map(|c| decoder.push(c)).collect();
        assert_eq!(out, samples, "chunks of {n}");
    }
}

#[tokio::test]
async fn tts_streams_pcm_split_on_odd_bytes() {
    let samples: Vec<i16> = (0..2_400)
        .map(|i| ((i * 97) % 65_536 - 32_768) as i16)
        .collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let (server, config) = Server::start(vec![ok(split_every(&bytes, 333))]).await;
    let tts = OpenAiTts::new(config).unwrap();
    assert_eq!(tts.rate(), SampleRate::HZ_24000);
    let chunks: Vec<_> = tts.synthesize("Hello there.").collect().await;
    let mut out = Vec::new();
    for chunk in chunks {
        let pcm = chunk.unwrap();
        assert_eq!(pcm.rate(), SampleRate::HZ_24000);
        out.extend_from_slice(pcm.samples());
    }
    assert_eq!(out, samples);
    assert_eq!(
        server.json_bodies()[0],
        json!({"model": "tts-test", "voice": "voice-test", "input": "Hello there.", "response_format": "pcm"})
    );
}
