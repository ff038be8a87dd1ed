#!/usr/bin/env python3
"""Writes presets/demo/phrase.mid, the short phrase scripts/demo.sh renders:
a two-bar melody over a bass line in C major at 100 bpm, every note inside
the default model's trained range (MIDI 48-72), at most three at once.
Standard library only; the same bytes every run.

usage: make-demo-midi.py [OUT.mid]   (default: presets/demo/phrase.mid)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets"))
from midi_note import vlq  # noqa: E402  (the variable-length quantity of SMF)

PPQ = 480
TEMPO_US = 600000  # 100 bpm

# (start in eighths, length in eighths, note, velocity)
MELODY = [(0, 2, 64, 100), (2, 1, 67, 90), (3, 1, 69, 90), (4, 3, 72, 110), (7, 1, 71, 80),
          (8, 2, 69, 100), (10, 2, 67, 90), (12, 1, 65, 85), (13, 1, 64, 85), (14, 2, 62, 95),
          (16, 2, 64, 100), (18, 2, 67, 95), (20, 2, 65, 90), (22, 2, 62, 90),
          (24, 8, 60, 105)]
BASS = [(0, 4, 48, 80), (4, 4, 53, 80), (8, 4, 57, 80), (12, 4, 55, 80),
        (16, 4, 52, 80), (20, 4, 50, 80), (24, 8, 48, 85)]
# a third above the bass on the last chord
HARMONY = [(24, 8, 55, 70)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(here, "..", "presets", "demo",
                                                                "phrase.mid"))
    eighth = PPQ // 2
    events = []  # (tick, order, bytes): note-offs (order 0) before note-ons at the same tick
    for start, length, note, vel in MELODY + BASS + HARMONY:
        events.append((start * eighth, 1, bytes([0x90, note, vel])))
        # release a little early so repeated notes are heard as separate notes
        events.append(((start + length) * eighth - 20, 0, bytes([0x80, note, 0])))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    track = vlq(0) + b"\xff\x51\x03" + TEMPO_US.to_bytes(3, "big")
    track += vlq(0) + b"\xff\x03" + vlq(len(b"genwave demo")) + b"genwave demo"
    track += vlq(0) + bytes([0xC0, 0])
    now = 0
    for tick, _, data in events:
        track += vlq(tick - now) + data
        now = tick
    track += vlq(PPQ) + b"\xff\x2f\x00"  # a beat of silence for the releases
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, PPQ))
        f.write(b"MTrk" + struct.pack(">I", len(track)) + track)
    print(f"{path}: {len(MELODY) + len(BASS) + len(HARMONY)} notes, "
          f"{(32 * eighth + PPQ) * TEMPO_US / PPQ / 1e6:.1f} s")


if __name__ == "__main__":
    main()
