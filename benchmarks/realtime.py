"""How many saw->lpf voices `phonon play` keeps in real time: a JACK server with the dummy backend (the
device paces the callback like a sound card), block 256, N workers, the voices workload of
benchmarks/workloads.py at each voice count, and the underruns `phonon play --json` reports.

    python -m benchmarks.realtime --voices 5000,7500,10000 --workers 2 --duration 60

Each count is one `phonon play` process (its first seconds include loading the kernels and, for a new
structure, the background compile of its fused code; that is what a user gets too). Needs jackd (jackd2)
and PortAudio (libportaudio2)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.workloads import voices_program

ROOT = Path(__file__).resolve().parents[1]


def play(program: Path, env: dict, workers: int, duration: float, block: int) -> dict:
    args = [sys.executable, "-m", "phonon", "play", str(program), "--duration", str(duration),
            "--workers", str(workers), "--block", str(block), "--json"]  # fmt: skip
    r = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=duration * 3 + 120)
    if r.returncode != 0:
        raise RuntimeError(f"phonon play failed ({r.returncode}): {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.jack import JackServer, jack_available

    parser = argparse.ArgumentParser()
    parser.add_argument("--voices", default="5000,7500,10000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--block", type=int, default=256)
    args = parser.parse_args()
    why = jack_available()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, JackServer(rate=44100, period=args.block) as jack:
        for n in (int(v) for v in args.voices.split(",")):
            program = Path(tmp) / f"voices{n}.phonon"
            program.write_text(voices_program(n))
            summary = play(program, jack.env(), args.workers, args.duration, args.block)
            keys = ("underruns", "blocks", "max_render_ms", "underrun_times")
            print(f"{n:6d} voices: " + ", ".join(f"{k} {summary[k]}" for k in keys if k in summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
