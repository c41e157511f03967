// Poseidon over Fr (neptune Strength::Standard, x^5), one hash per work-item, in the optimised
// schedule of proofs::poseidon::Constants (Poseidon paper appendix B, as neptune's
// hash_optimized_static): compressed round constants, a pre-sparse matrix after the first half of
// the full rounds and one sparse matrix per partial round (2t - 1 multiplications instead of t^2).
//
// Compiled once per arity with -DARITY=a -DFULL_ROUNDS=8 -DPARTIAL_ROUNDS=p; needs fr.cl first.
// The constants buffer `k` holds, as Montgomery limbs (4 ulong per element), back to back:
//   crc        FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS   compressed round constants
//   mds        WIDTH * WIDTH                          row-major
//   pre_sparse WIDTH * WIDTH                          row-major
//   sparse     PARTIAL_ROUNDS * (2 * WIDTH - 1)       [m00, v_1..v_{t-1}, w_1..w_{t-1}] per round
// The host computes every constant (proofs::poseidon); nothing is derived here.

#define WIDTH (ARITY + 1)
#define HALF_FULL (FULL_ROUNDS / 2)
#define SPARSE_STRIDE (2 * WIDTH - 1)
#define CRC_OFF 0
#define MDS_OFF (FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS)
#define PRE_OFF (MDS_OFF + WIDTH * WIDTH)
#define SPARSE_OFF (PRE_OFF + WIDTH * WIDTH)

inline fr_t kc(const global ulong* k, uint index) {
  return fr_load(k + 4 * (size_t)index);
}

// s = m * s for a dense row-major WIDTH x WIDTH matrix starting at element `off`.
inline void dense_mix(fr_t* s, const global ulong* k, uint off) {
  fr_t out[WIDTH];
  for (uint i = 0; i < WIDTH; ++i) {
    fr_t acc = fr_mul(kc(k, off + i * WIDTH), s[0]);
    for (uint j = 1; j < WIDTH; ++j) acc = fr_add(acc, fr_mul(kc(k, off + i * WIDTH + j), s[j]));
    out[i] = acc;
  }
  for (uint i = 0; i < WIDTH; ++i) s[i] = out[i];
}

inline void permute(fr_t* s, const global ulong* k) {
  uint crc = CRC_OFF;
  for (uint i = 0; i < WIDTH; ++i) s[i] = fr_add(s[i], kc(k, crc + i));
  crc += WIDTH;
  for (uint r = 0; r < HALF_FULL; ++r) {
    for (uint i = 0; i < WIDTH; ++i) s[i] = fr_add(fr_pow5(s[i]), kc(k, crc + i));
    crc += WIDTH;
    dense_mix(s, k, r + 1 == HALF_FULL ? PRE_OFF : MDS_OFF);
  }
  uint sp = SPARSE_OFF;
  for (uint r = 0; r < PARTIAL_ROUNDS; ++r, sp += SPARSE_STRIDE) {
    // The v-row products do not depend on the S-box output: sum them first.
    fr_t acc = fr_mul(kc(k, sp + 1), s[1]);
    for (uint j = 2; j < WIDTH; ++j) acc = fr_add(acc, fr_mul(kc(k, sp + j), s[j]));
    const fr_t s0 = fr_add(fr_pow5(s[0]), kc(k, crc));
    ++crc;
    for (uint i = 1; i < WIDTH; ++i) s[i] = fr_add(s[i], fr_mul(kc(k, sp + WIDTH + i - 1), s0));
    s[0] = fr_add(acc, fr_mul(kc(k, sp), s0));
  }
  for (uint r = 0; r < HALF_FULL; ++r) {
    if (r + 1 == HALF_FULL) {
      for (uint i = 0; i < WIDTH; ++i) s[i] = fr_pow5(s[i]);
    } else {
      for (uint i = 0; i < WIDTH; ++i) s[i] = fr_add(fr_pow5(s[i]), kc(k, crc + i));
      crc += WIDTH;
    }
    dense_mix(s, k, MDS_OFF);
  }
}

// out[out_first + g] = Poseidon(tag, in[in_first + g*ARITY .. + ARITY)) for g < n, elements as
// canonical little-endian limbs (the host checked every input is < r). `tag` is the domain tag in
// Montgomery form. Offsets are in elements, so a tree build can chain rows inside one buffer.
kernel void poseidon_hash(const global ulong* in, global ulong* out, const global ulong* k,
                          ulong tag0, ulong tag1, ulong tag2, ulong tag3, ulong in_first,
                          ulong out_first, ulong n) {
  const size_t g = get_global_id(0);
  if (g >= n) return;
  fr_t s[WIDTH];
  s[0].l[0] = tag0;
  s[0].l[1] = tag1;
  s[0].l[2] = tag2;
  s[0].l[3] = tag3;
  const global ulong* src = in + 4 * (in_first + g * ARITY);
  for (uint i = 0; i < ARITY; ++i) s[i + 1] = fr_to_mont(fr_load(src + 4 * i));
  permute(s, k);
  fr_store(out + 4 * (out_first + g), fr_from_mont(s[1]));
}
