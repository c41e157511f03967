// Poseidon over BLS12-381 Fr, one hash per invocation: the optimised schedule of
// proofs::poseidon::Constants (neptune's hash_optimized_static): compressed round constants, a
// dense pre-sparse matrix after the first half of full rounds, then R_P sparse partial rounds.
//
// Inputs and outputs are canonical little-endian field elements (8 words each) in one storage
// buffer; the kernel checks every input is < r, enters Montgomery form, hashes and leaves
// Montgomery form, so rows of a tree can feed the next row directly. Constants (Montgomery form)
// are computed on the host by proofs::poseidon and uploaded; nothing is derived here.
#version 450
#extension GL_GOOGLE_include_directive : require

#include "fr.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint T = 3;   // width = arity + 1
layout(constant_id = 2) const uint RP = 55; // partial rounds
layout(constant_id = 3) const uint RF = 8;  // full rounds
const uint ARITY = T - 1u;

layout(std430, set = 0, binding = 0) buffer Data { uint data[]; };
// [compressed round constants: RF*T + RP][mds: T*T][pre_sparse: T*T][sparse: RP*(2T-1)], 8 words
// per element.
layout(std430, set = 0, binding = 1) readonly buffer Constants { uint consts[]; };
// Lowest non-canonical input element seen (relative to first_element); 0xffffffff when none.
layout(std430, set = 0, binding = 2) buffer Status { uint first_bad; };

layout(push_constant) uniform Push {
  uint in_word;        // first input word of this dispatch in `data`
  uint out_word;       // first output word
  uint count;          // hashes in this dispatch
  uint first_element;  // element number of the first input, for error reports
  uint tag[8];         // slot 0 of every state, Montgomery form
} pc;

uint s[T * 8u];
uint tmp[T * 8u];

uint[8] cst(uint e) {
  uint b = e * 8u;
  return uint[8](consts[b], consts[b + 1u], consts[b + 2u], consts[b + 3u], consts[b + 4u],
                 consts[b + 5u], consts[b + 6u], consts[b + 7u]);
}

uint[8] get_s(uint i) {
  uint b = i * 8u;
  return uint[8](s[b], s[b + 1u], s[b + 2u], s[b + 3u], s[b + 4u], s[b + 5u], s[b + 6u],
                 s[b + 7u]);
}

void set_s(uint i, uint v[8]) {
  for (uint k = 0u; k < 8u; ++k) s[i * 8u + k] = v[k];
}

// s = M * s for the dense t*t matrix at constant index `m`.
void dense(uint m) {
  for (uint i = 0u; i < T; ++i) {
    uint acc[8] = uint[8](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    for (uint j = 0u; j < T; ++j) acc = fr_add(acc, fr_mul(cst(m + i * T + j), get_s(j)));
    for (uint k = 0u; k < 8u; ++k) tmp[i * 8u + k] = acc[k];
  }
  for (uint i = 0u; i < T * 8u; ++i) s[i] = tmp[i];
}

void main() {
  uint h = gl_GlobalInvocationID.x;
  if (h >= pc.count) return;

  set_s(0u, pc.tag);
  uint in_word = pc.in_word + h * ARITY * 8u;
  for (uint i = 0u; i < ARITY; ++i) {
    uint b = in_word + i * 8u;
    uint x[8] = uint[8](data[b], data[b + 1u], data[b + 2u], data[b + 3u], data[b + 4u],
                        data[b + 5u], data[b + 6u], data[b + 7u]);
    if (fr_geq_p(x)) {
      atomicMin(first_bad, pc.first_element + h * ARITY + i);
      x = uint[8](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    }
    set_s(i + 1u, fr_to_mont(x));
  }

  const uint kMds = RF * T + RP;
  const uint kPreSparse = kMds + T * T;
  const uint kSparse = kPreSparse + T * T;
  const uint half_full = RF / 2u;

  // One loop over all R_F + R_P rounds so each field operation is instantiated once (see
  // fr_pow5); the branches are uniform across the workgroup.
  for (uint i = 0u; i < T; ++i) set_s(i, fr_add(get_s(i), cst(i)));
  uint c = T;  // next compressed round constant
  uint sp = kSparse;
  const uint rounds = RF + RP;
  for (uint r = 0u; r < rounds; ++r) {
    bool full = r < half_full || r >= half_full + RP;
    bool last = r + 1u == rounds;
    uint sboxes = full ? T : 1u;
    for (uint i = 0u; i < sboxes; ++i) {
      uint x[8] = fr_pow5(get_s(i));
      set_s(i, last ? x : fr_add(x, cst(c + i)));
    }
    if (!last) c += sboxes;
    if (full) {
      dense(r + 1u == half_full ? kPreSparse : kMds);
    } else {
      // Sparse matrix [m00, v_1..v_{t-1}, w_1..w_{t-1}]: s0' = m00 s0 + v.s, s_i' = w_i s0 + s_i.
      uint acc[8] = uint[8](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
      for (uint j = 0u; j < T; ++j) acc = fr_add(acc, fr_mul(cst(sp + j), get_s(j)));
      uint s0[8] = get_s(0u);
      for (uint i = 1u; i < T; ++i) {
        set_s(i, fr_add(get_s(i), fr_mul(cst(sp + T + i - 1u), s0)));
      }
      set_s(0u, acc);
      sp += 2u * T - 1u;
    }
  }

  uint outv[8] = fr_from_mont(get_s(1u));
  uint o = pc.out_word + h * 8u;
  for (uint k = 0u; k < 8u; ++k) data[o + k] = outv[k];
}
