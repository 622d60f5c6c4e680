"""Save-to-sound under `phonon play --watch`: how long after a program file is saved its new version plays.

    python -m benchmarks.reload

Plays a program on a JACK server with the dummy backend, saves four edits that each change the program's
structure (new kinds, buses, samples, a feedback delay), and prints for each, from the player's own record
(PHONON_PLAY_CAPTURE's info file): save -> change detected, detected -> new version ready (compiled and
planned), and save -> swapped into the audio. A new structure never waits for a compiler: it starts on the
batched kernels while its fused code compiles in the background (engine/tiers.py). Needs jackd and PortAudio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDITS = [
    "out: saw 110 # lpf 800 * 0.2\n",
    "out: saw 110 # lpf 800 * 0.2 + sine 220 # hpf 300 * 0.1\n",
    "out: (saw 110 # lpf 800 + pulse 55 0.3 # bpf 500 2) * 0.2 # delay 0.2 0.4 0.3\n",
    '~a: sine 0.5 * 400 + 600\nout: (square 82.5 # lpf ~a 3 # dist 4) * 0.1 + s "bd*4 [sn cp]" * 0.5\n',
    "out: tri 220 # bitcrush 6 2 # chorus 1 0.5 0.4 * 0.2 + noise # lpf 3000 * 0.02\n",
]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.jack import JackServer, jack_available

    why = jack_available()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, JackServer(rate=44100, period=256) as jack:
        program, capture = Path(tmp) / "live.phonon", Path(tmp) / "capture.raw"
        program.write_text(EDITS[0])
        env = jack.env()
        env["PHONON_PLAY_CAPTURE"] = str(capture)
        duration = 4 + 2.5 * len(EDITS)
        player = subprocess.Popen(
            [sys.executable, "-m", "phonon", "play", str(program), "--watch", "--duration", str(duration)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(4)
        saved = []
        for text in EDITS[1:]:
            program.write_text(text)
            saved.append(time.time())
            time.sleep(2.5)
        _, err = player.communicate(timeout=duration + 60)
        if player.returncode != 0:
            print(err, file=sys.stderr)
            return 1
        info = json.loads(Path(str(capture) + ".json").read_text())
        for at, r in zip(saved, info["reloads"]):
            print(f"save -> detected {1e3 * (r['detected_unix'] - at):5.0f} ms, detected -> ready "
                  f"{1e3 * (r['ready_unix'] - r['detected_unix']):5.0f} ms, save -> sound {1e3 * (r['swapped_unix'] - at):5.0f} ms")
        print(f"underruns: {info['underruns']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
