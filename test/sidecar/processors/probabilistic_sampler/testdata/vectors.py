#!/usr/bin/env python3
"""Independent derivation of the probabilistic_sampler test vectors (sampling.test.ts).

Written from the rules of the OpenTelemetry Collector's probabilistic_sampler as read in its
source and README, without the TypeScript implementation:
- FNV-1a 32 (offset basis 0x811c9dc5, prime 0x01000193) over the seed's 4 little-endian bytes,
  then the 16 trace ID bytes;
- bucket = hash & 0x3fff; kept when bucket < trunc(float32(pct) * float32(163.84)) (float32
  arithmetic emulated with struct: the product of two float32 values is exact in a double, so
  one rounding to float32 is Go's float32 multiply);
- the 56-bit randomness the collector writes as rv: (16383 - bucket) << 42 | mixed << 14 | bucket
  with mixed = u ^ (u << 10), u = hash >> 14;
- thresholds: T = 2^56 - round(p * 2^56), p = float32(pct) / 100, rounded half up to `prec`
  significant hex digits, leading zero digits adding to prec; th = 14 hex digits, trailing zeros
  dropped ("0" for T = 0); proportional combination: p = (2^56 - T_in) / 2^56 * ratio.
Run: python3 vectors.py
"""
import struct

M = 1 << 56


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def fnv1a(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def accept(pct):
    return int(f32(f32(min(pct, 100)) * f32(16384 / 100)))


def randomness(h):
    bucket = h & 0x3FFF
    u = h >> 14
    return ((16383 - bucket) << 42) | ((u ^ (u << 10)) << 14) | bucket


def threshold(p, prec):
    if p == 1:
        return 0
    r = 1 - p
    while r * 16 < 1:
        r *= 16
        prec += 1
    if prec > 14:
        return 0
    x = p * M
    t = M - (int(x) + (1 if x - int(x) >= 0.5 else 0))
    if prec < 14:
        sh = 4 * (14 - prec)
        t = ((t + (1 << (sh - 1))) >> sh) << sh
    return t


def tv(t):
    return '0' if t == 0 else ('%014x' % t).rstrip('0')


print('FNV-1a 32:', hex(fnv1a(b'')), hex(fnv1a(b'a')), hex(fnv1a(b'foobar')))
for pct in [10, 15.3, 33.333, 50, 100, 250, 0.001, 0.01]:
    print('accept', pct, accept(pct))
for seed, tid in [(0, '0102030405060708090a0b0c0d0e0f10'), (0, '4bf92f3577b34da6a3ce929d0e0e4736'),
                  (22, '0102030405060708090a0b0c0d0e0f10'), (22, 'ffffffffffffffffffffffffffffffff'),
                  (0xdeadbeef, '0102030405060708090a0b0c0d0e0f10'), (0xdeadbeef, '00000000000000000000000000000001')]:
    h = fnv1a(seed.to_bytes(4, 'little') + bytes.fromhex(tid))
    print('hash', seed, tid, hex(h), 'bucket', h & 0x3FFF, 'rv %014x' % randomness(h),
          '10%:', 'kept' if (h & 0x3FFF) < accept(10) else 'dropped')
print('hash_seed 10% th', tv((16384 - accept(10)) << 42))
for pct, prec in [(50, 4), (25, 4), (100 / 3, 4), (10, 4), (1, 4), (15.3, 4), (10, 14), (10, 1), (99.99, 4), (100, 4)]:
    print('th', pct, prec, tv(threshold(f32(pct) / 100, prec)))
for t_in in ['8', 'f']:
    t = int(t_in.ljust(14, '0'), 16)
    print('proportional 10%% after th:%s' % t_in, tv(threshold((M - t) / M * (f32(10) / 100), 4)))
