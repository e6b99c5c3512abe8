#!/usr/bin/env bash
# Measures end of speech -> first agent audio with the embedded engines: starts `dialtone serve` (release),
# asks the demo agent 22 questions in one call with `dialtone call`, and prints p50/p95 of the server's
# per-turn milestones (end of speech is the VAD's, corrected back to the last speech frame) and of the
# caller-side wait.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
port=${PORT:-18093}
log=$(mktemp)
target/release/dialtone serve --http "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q "answering calls" "$log" && break; sleep 0.2; done
questions=(
  "What time do you open on Saturday?" "Do you take Delta Dental?" "Where are you located?"
  "How much is a cleaning?" "Are you open on Sunday?" "Do you do teeth whitening?"
  "Who are your dentists?" "What are your hours on Thursday?" "Do you accept cash?"
  "Do you offer financing?" "Is there parking?" "Do you see children?"
  "What is your cancellation policy?" "Do you do root canals?" "What time do you close on Friday?"
  "Do you take MetLife?" "What should new patients bring?" "Is the office wheelchair accessible?"
  "Do you do Invisalign?" "What is your email address?" "Do you take Cigna?" "What time do you open on Monday?"
)
args=()
for q in "${questions[@]}"; do args+=(--say "$q"); done
target/release/dialtone call --url "ws://127.0.0.1:$port/streams/twilio" "${args[@]}" >"$log.call" 2>&1
kill $server; wait $server 2>/dev/null || true
python3 - "$log" "$log.call" <<'PY'
import re, sys, statistics
server = open(sys.argv[1]).read()
client = open(sys.argv[2]).read()
def pct(v, p):
    v = sorted(v); k = (len(v) - 1) * p / 100; f = int(k); c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)
fields = ["end_of_turn_ms", "stt_final_ms", "first_audio_ms", "first_frame_ms", "decision_to_frame_ms"]
rows = {f: [float(x) for x in re.findall(f + r"\x1b\[0m\x1b\[2m=\x1b\[0m([0-9.]+)|" + f + r"=([0-9.]+)", server) for x in x if x] for f in fields}
n = len(rows["first_frame_ms"])
print(f"server, {n} turns (ms after end of speech):")
for f in fields:
    if rows[f]:
        print(f"  {f:22} p50 {pct(rows[f], 50):7.1f}  p95 {pct(rows[f], 95):7.1f}")
waits = [float(x) for x in re.findall(r"first agent audio (\d+) ms", client)]
if waits:
    print(f"caller side, {len(waits)} turns: end of question audio -> first agent audio p50 {pct(waits, 50):.0f} ms, p95 {pct(waits, 95):.0f} ms")
print("answers heard:")
for line in client.splitlines():
    if line.startswith("agent:"):
        print("  " + line)
PY
rm -f "$log.call"
