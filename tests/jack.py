"""A JACK server with the dummy backend, for tests that need a real-time paced audio device without a sound
card: `jackd -n NAME -d dummy -r RATE -p PERIOD`, under a unique NAME per run.

Clients reach it through the environment: `JACK_DEFAULT_SERVER=NAME` (and `JACK_NO_START_SERVER=1`, so a
client never starts a server of its own). PortAudio looks for JACK when it initialises (at
`import sounddevice`), so a process must be started (or call `sounddevice._terminate()` and
`sounddevice._initialize()`) after the server is up, and must terminate PortAudio before the server goes
away (PortAudio's JACK host API aborts the process at exit otherwise).

    with JackServer() as jack:
        subprocess.run([...], env=jack.env())
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path


def jack_available() -> str | None:
    """None when a dummy JACK server can be started here, else why not."""
    if shutil.which("jackd") is None:
        return "jackd is not installed (apt-get install jackd2)"
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return "PortAudio is not installed (apt-get install libportaudio2)"
    return None


class JackServer:
    """Starts `jackd` (dummy backend) on `start()`, waits until it accepts clients, and always stops it on
    `stop()` (SIGTERM, then SIGKILL): no jackd process is ever left behind."""

    def __init__(self, rate: int = 48000, period: int = 256, name: str | None = None, playback: int = 2) -> None:
        self.rate = rate
        self.period = period
        self.playback = playback  # the dummy card's output ports
        self.name = name or f"phonon-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen | None = None
        self._log_file = None
        self.log = ""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["JACK_DEFAULT_SERVER"] = self.name
        env["JACK_NO_START_SERVER"] = "1"
        return env

    def start(self, timeout: float = 10.0) -> "JackServer":
        try:
            return self._start([], timeout)
        except RuntimeError:  # real-time scheduling may be refused (a container without the capability)
            return self._start(["--no-realtime"], timeout)

    def _start(self, options: list[str], timeout: float) -> "JackServer":
        cmd = ["jackd", *options, "-n", self.name, "-d", "dummy", "-r", str(self.rate), "-p", str(self.period),
               "-P", str(self.playback)]
        self._log_file = tempfile.TemporaryFile("w+")  # a file, not a pipe: a chatty server never blocks
        self.proc = subprocess.Popen(
            cmd, stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C sent to a test's process group never reaches the server
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"jackd exited at start:\n{self.log}")
                check = subprocess.run(
                    ["jack_wait", "-s", self.name, "-c"], env=self.env(), capture_output=True, text=True, timeout=10
                )
                if check.stdout.strip() == "running":
                    return self
                time.sleep(0.1)
            raise RuntimeError(f"jackd did not come up within {timeout} s")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log, self._log_file = self._log_file, None
        if log is not None:
            log.seek(0)
            self.log = log.read()
            log.close()
        # A client connected when the server went away cannot remove its semaphore; the server's name is
        # unique to this object, so whatever is left under it is ours to remove.
        shm = Path("/dev/shm")
        if shm.is_dir():
            for leftover in [*shm.glob(f"jack_sem.*_{self.name}_*"), *shm.glob(f"jack_{self.name}_*")]:
                leftover.unlink(missing_ok=True)

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def shm_entries() -> set[str]:
    """Names in /dev/shm (empty where there is none)."""
    path = Path("/dev/shm")
    return {p.name for p in path.iterdir()} if path.is_dir() else set()
