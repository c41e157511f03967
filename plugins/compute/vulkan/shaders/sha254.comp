// SHA254 node hash, one per invocation: SHA-256 of a 64-byte pair (one message block plus the
// constant padding block of a 512-bit message) with the top two bits of byte 31 cleared, as
// proofs::sha256::sha254_nodes and rust-fil-proofs' Sha256Domain do. Bytes are stored little-end
// words in the buffer; SHA-256 reads them big-endian.
#version 450
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Data { uint data[]; };

layout(push_constant) uniform Push {
  uint in_word;   // first word of the pairs of this dispatch (16 words per pair)
  uint out_word;  // first output word (8 words per node)
  uint count;     // nodes in this dispatch
} pc;

const uint K[64] = uint[64](
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u);

uint rotr(uint x, uint n) { return (x >> n) | (x << (32u - n)); }

uint bswap(uint x) {
  return (x >> 24) | ((x >> 8) & 0x0000ff00u) | ((x << 8) & 0x00ff0000u) | (x << 24);
}

uint[8] compress(uint h[8], uint block[16]) {
  uint w[64];
  [[unroll]] for (uint i = 0u; i < 16u; ++i) w[i] = block[i];
  [[unroll]] for (uint i = 16u; i < 64u; ++i) {
    uint s0 = rotr(w[i - 15u], 7u) ^ rotr(w[i - 15u], 18u) ^ (w[i - 15u] >> 3);
    uint s1 = rotr(w[i - 2u], 17u) ^ rotr(w[i - 2u], 19u) ^ (w[i - 2u] >> 10);
    w[i] = w[i - 16u] + s0 + w[i - 7u] + s1;
  }
  uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  [[unroll]] for (uint i = 0u; i < 64u; ++i) {
    uint S1 = rotr(e, 6u) ^ rotr(e, 11u) ^ rotr(e, 25u);
    uint ch = (e & f) ^ (~e & g);
    uint t1 = hh + S1 + ch + K[i] + w[i];
    uint S0 = rotr(a, 2u) ^ rotr(a, 13u) ^ rotr(a, 22u);
    uint maj = (a & b) ^ (a & c) ^ (b & c);
    uint t2 = S0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  return uint[8](h[0] + a, h[1] + b, h[2] + c, h[3] + d, h[4] + e, h[5] + f, h[6] + g, h[7] + hh);
}

void main() {
  uint n = gl_GlobalInvocationID.x;
  if (n >= pc.count) return;
  uint block[16];
  uint b = pc.in_word + n * 16u;
  [[unroll]] for (uint i = 0u; i < 16u; ++i) block[i] = bswap(data[b + i]);
  uint h[8] = uint[8](0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu,
                      0x1f83d9abu, 0x5be0cd19u);
  h = compress(h, block);
  // The second block of a 64-byte message: 0x80, zeros, then the length 512 in bits.
  uint pad[16] = uint[16](0x80000000u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 512u);
  h = compress(h, pad);
  uint o = pc.out_word + n * 8u;
  [[unroll]] for (uint i = 0u; i < 7u; ++i) data[o + i] = bswap(h[i]);
  // Byte 31 is the low byte of the last big-endian word: clear its top two bits.
  data[o + 7u] = bswap(h[7]) & 0x3fffffffu;
}
