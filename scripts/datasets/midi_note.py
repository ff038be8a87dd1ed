#!/usr/bin/env python3
"""Write a one-note Standard MIDI File (format 0) with the standard library
only: program change, note on, note off after HOLD seconds, a tail of silence
for the release, end of track.

usage: midi_note.py OUT.mid PROGRAM NOTE VELOCITY HOLD_SECONDS TAIL_SECONDS
"""
import struct
import sys

PPQ = 480          # ticks per quarter note
TEMPO_US = 500000  # 120 bpm: one quarter = 0.5 s, so 960 ticks per second


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def main():
    path, program, note, vel, hold, tail = sys.argv[1:7]
    program, note, vel = int(program), int(note), int(vel)
    ticks_per_s = PPQ * 1_000_000 // TEMPO_US
    hold_t = round(float(hold) * ticks_per_s)
    tail_t = round(float(tail) * ticks_per_s)
    ev = b""
    ev += vlq(0) + b"\xff\x51\x03" + TEMPO_US.to_bytes(3, "big")
    ev += vlq(0) + bytes([0xC0, program])
    ev += vlq(0) + bytes([0x90, note, vel])
    ev += vlq(hold_t) + bytes([0x80, note, 0])
    ev += vlq(tail_t) + b"\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, PPQ))
        f.write(b"MTrk" + struct.pack(">I", len(ev)) + ev)


if __name__ == "__main__":
    main()
