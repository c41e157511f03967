// SHA254 tree_d node hashing: out[i] = SHA-256(pairs[64*i .. 64*i + 64)) with the top two bits of
// byte 31 cleared, one node per work-item. A 64-byte message is one data block plus one padding
// block (0x80, zeros, bit length 512).

#define ROTR(x, n) rotate((uint)(x), (uint)(32 - (n)))
#define CH(x, y, z) bitselect((z), (y), (x))
#define MAJ(x, y, z) bitselect((x), (y), (z) ^ (x))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

constant uint kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline void sha256_compress(uint* h, uint* w) {
  for (int i = 16; i < 64; ++i) w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) + w[i - 16];
  uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    const uint t1 = hh + BSIG1(e) + CH(e, f, g) + kSha256K[i] + w[i];
    const uint t2 = BSIG0(a) + MAJ(a, b, c);
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

kernel void sha254_nodes(const global uchar* pairs, global uchar* out, ulong n) {
  const size_t g = get_global_id(0);
  if (g >= n) return;
  const global uchar* p = pairs + 64 * g;
  uint h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = ((uint)p[4 * i] << 24) | ((uint)p[4 * i + 1] << 16) | ((uint)p[4 * i + 2] << 8) |
           (uint)p[4 * i + 3];
  }
  sha256_compress(h, w);
  w[0] = 0x80000000u;
  for (int i = 1; i < 15; ++i) w[i] = 0;
  w[15] = 512;
  sha256_compress(h, w);
  global uchar* o = out + 32 * g;
  for (int i = 0; i < 8; ++i) {
    o[4 * i] = (uchar)(h[i] >> 24);
    o[4 * i + 1] = (uchar)(h[i] >> 16);
    o[4 * i + 2] = (uchar)(h[i] >> 8);
    o[4 * i + 3] = (uchar)h[i];
  }
  o[31] &= 0x3f;
}
