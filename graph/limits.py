"""Limits on what a program may ask for, each defined here once, with the reason for its value.

Every limit is far beyond anything musical. They exist so that a slip of the keyboard (`fast 1e30`,
`tempo: 1e9`, `chop 10000000`) gets an error pointing at it, instead of a render that runs for hours or
fills the memory: the work a program can ask for stays in proportion to what it can play.
"""

from __future__ import annotations

from fractions import Fraction

# Tempo, in cycles per second. 1000 is a cycle of one millisecond (44 samples at 44.1 kHz, bpm: 60000):
# already an audio-rate clock rather than a tempo. Every cycle costs a pattern query per pattern, so a
# faster clock would make the work per second of audio grow without bound.
MAX_CPS = Fraction(1000)
# A cycle of a million seconds (11.6 days). Slower than this, cycle positions of a render stop fitting the
# float arithmetic the kernels count samples in (the adsr kernel clamps its tempo at 1e-9).
MIN_CPS = Fraction(1, 1_000_000)

# Events a pattern may make in one cycle. Ten thousand onsets in a cycle are a quarter of a millisecond
# apart at 2 cycles per second: more cannot be heard apart, and each event costs host work in every cycle.
MAX_EVENTS_PER_CYCLE = 10_000
# Steps of work a pattern query may take per cycle: events, the pieces of cycles that fast, ply, chop or
# `*` visit on the way to them, and the pairs of events that pattern arithmetic compares. A generous multiple
# of the event limit, so only runaway patterns reach it (a pattern of n events takes a few n steps).
MAX_WORK_PER_CYCLE = 20 * MAX_EVENTS_PER_CYCLE

# Brackets, calls, `$` and unary minus nested in a program, and brackets nested in one mini-notation string.
# Real programs nest a handful of levels; every level costs Python stack frames when the program is compiled
# and when its patterns are queried, and Python stops at about a thousand.
MAX_NESTING = 64

# Sample files: sample rates outside this range are a broken header, not audio (resampling a file that
# claims 1 Hz to 44.1 kHz would need 44100 output frames per stored frame).
MIN_SAMPLE_FILE_RATE = 1_000
MAX_SAMPLE_FILE_RATE = 768_000
