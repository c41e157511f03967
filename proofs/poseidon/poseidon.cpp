// Poseidon permutation: the unoptimised reference schedule and the optimised kernel, compiled
// twice (generic x86-64 and BMI2/ADX) and selected once at run time.
#include "proofs/poseidon/poseidon.hpp"

#include <atomic>
#include <string>

#include "proofs/field/fr_adx.hpp"

namespace sealhost::proofs::poseidon {
namespace {

// Independent hashes interleaved by hash_batch, enough to cover the partial rounds' latency
// chain (S-box: 3 dependent multiplications, then a dot product feeding the next round). Width 3
// needs them most (little other work per partial round); 8 is also no slower for the wide ones.
constexpr size_t kMaxBatchLanes = 8;
constexpr size_t batch_lanes(size_t /*arity*/) {
  return kMaxBatchLanes;
}

// Multiplication policies: portable C++ (unsigned __int128) or MULX/ADCX/ADOX.
struct GenericMul {
  static constexpr bool kLazyDot = false;
  [[gnu::always_inline]] static Fr mul(const Fr& a, const Fr& b) { return a * b; }
  [[gnu::always_inline]] static Fr sqr(const Fr& a) { return a * a; }
  [[gnu::always_inline]] static Fr add(const Fr& a, const Fr& b) { return a + b; }
};
struct AdxMul {
  // Dense rows and the sparse first row use sums of products with one reduction.
  static constexpr bool kLazyDot = true;
  [[gnu::always_inline]] static Fr mul(const Fr& a, const Fr& b) { return field::mul_adx(a, b); }
  // Dedicated squaring: 10 limb products instead of 16 before the reduction.
  [[gnu::always_inline]] static Fr sqr(const Fr& a) { return field::sqr_adx(a); }
  [[gnu::always_inline]] static Fr add(const Fr& a, const Fr& b) { return field::add_asm(a, b); }
};

// x^5 of N independent values, one step at a time over all of them: the N multiplications of a
// step are adjacent in program order, so the out-of-order core overlaps their latency (a whole
// x^5 chain per value would expose three multiplication latencies each).
// Uninitialised storage for N field elements (Fr() would zero them; the kernels overwrite every
// element before reading it, and zeroing showed up as rep stos in the profile). Fr is an
// implicit-lifetime type, so the bytes provide the objects.
template <size_t N>
struct Scratch {
  alignas(Fr) unsigned char bytes[N * sizeof(Fr)];
  Fr& operator[](size_t i) { return reinterpret_cast<Fr*>(bytes)[i]; }
};

// x^5 = (x^2)^2 * x: two squarings and one multiplication per value.
template <class M, size_t N>
[[gnu::always_inline]] inline void pow5_all(Fr* x) {
  Scratch<N> x2;
  for (size_t i = 0; i < N; ++i) x2[i] = M::sqr(x[i]);
  for (size_t i = 0; i < N; ++i) x2[i] = M::sqr(x2[i]);
  for (size_t i = 0; i < N; ++i) x[i] = M::mul(x2[i], x[i]);
}

// Optimised permutation of L independent states of width T (see Constants in the header for the
// schedule). Always inlined so each dispatch wrapper compiles it with its own multiplication.
// Every step runs over all L lanes before the next step starts, for the same reason as pow5_all.
template <size_t T, size_t L, class M>
[[gnu::always_inline]] inline void permute_opt(const Constants& c, Fr (*s)[T]) {
  const Fr* crc = c.compressed_round_constants.data();
  const Fr* mds = c.mds.data();
  const size_t half = c.full_rounds / 2;
  Fr* flat = &s[0][0];

  auto dense = [&](const Fr* m, const Fr* m_dot) {
    for (size_t l = 0; l < L; ++l) {
      Scratch<T> out;
      if constexpr (M::kLazyDot) {
        for (size_t i = 0; i < T; ++i) {
          field::DotAccumulator acc(m_dot[i * T], s[l][0]);
          for (size_t j = 1; j < T; ++j) acc.add_product(m_dot[i * T + j], s[l][j]);
          out[i] = acc.reduce();
        }
        for (size_t i = 0; i < T; ++i) s[l][i] = out[i];
        continue;
      }
      for (size_t i = 0; i < T; ++i) {
        Fr acc = M::mul(m[i * T], s[l][0]);
        for (size_t j = 1; j < T; ++j) acc = M::add(acc, M::mul(m[i * T + j], s[l][j]));
        out[i] = acc;
      }
      for (size_t i = 0; i < T; ++i) s[l][i] = out[i];
    }
  };
  auto add_constants = [&](const Fr* k) {
    for (size_t l = 0; l < L; ++l) {
      for (size_t i = 0; i < T; ++i) s[l][i] = M::add(s[l][i], k[i]);
    }
  };

  add_constants(crc);
  crc += T;
  for (size_t r = 0; r < half; ++r) {
    pow5_all<M, T * L>(flat);
    add_constants(crc);
    crc += T;
    if (r + 1 == half) {
      dense(c.pre_sparse.data(), c.pre_sparse_dot.data());
    } else {
      dense(mds, c.mds_dot.data());
    }
  }
  const size_t stride = 2 * T - 1;
  const Fr* sp = c.sparse.data();
  const Fr* sp_dot = c.sparse_dot.data();
  for (size_t r = 0; r < c.partial_rounds; ++r, sp += stride, sp_dot += stride) {
    const Fr k = *crc++;
    Scratch<L> s0;
    for (size_t l = 0; l < L; ++l) s0[l] = s[l][0];
    pow5_all<M, L>(&s0[0]);
    for (size_t l = 0; l < L; ++l) s0[l] = M::add(s0[l], k);
    if constexpr (M::kLazyDot) {
      // The v-row products do not depend on s0; the compiler may hoist them above the S-box.
      for (size_t l = 0; l < L; ++l) {
        field::DotAccumulator acc(sp_dot[1], s[l][1]);
        for (size_t j = 2; j < T; ++j) acc.add_product(sp_dot[j], s[l][j]);
        acc.add_product(sp_dot[0], s0[l]);
        for (size_t i = 1; i < T; ++i) s[l][i] = M::add(s[l][i], M::mul(sp[T + i - 1], s0[l]));
        s[l][0] = acc.reduce();
      }
    } else {
      for (size_t l = 0; l < L; ++l) {
        Fr acc = M::mul(sp[0], s0[l]);
        for (size_t j = 1; j < T; ++j) acc = M::add(acc, M::mul(sp[j], s[l][j]));
        for (size_t i = 1; i < T; ++i) s[l][i] = M::add(s[l][i], M::mul(sp[T + i - 1], s0[l]));
        s[l][0] = acc;
      }
    }
  }
  for (size_t r = 0; r < half; ++r) {
    const bool last = r + 1 == half;
    pow5_all<M, T * L>(flat);
    if (!last) {
      add_constants(crc);
      crc += T;
    }
    dense(mds, c.mds_dot.data());
  }
}

using PermuteFn = void (*)(const Constants&, Fr*);

template <size_t T, size_t L>
void permute_generic(const Constants& c, Fr* state) {
  permute_opt<T, L, GenericMul>(c, reinterpret_cast<Fr(*)[T]>(state));
}

template <size_t T, size_t L>
#if defined(__x86_64__)
__attribute__((target("bmi2,adx")))
#endif
void permute_bmi2(const Constants& c, Fr* state) {
  permute_opt<T, L, AdxMul>(c, reinterpret_cast<Fr(*)[T]>(state));
}

struct Kernels {
  PermuteFn single = nullptr;
  PermuteFn batch = nullptr;  // batch_lanes(arity) states
};

std::atomic<Kernel> g_kernel{Kernel::kAuto};

bool use_bmi2() {
  switch (g_kernel.load(std::memory_order_relaxed)) {
    case Kernel::kGeneric:
      return false;
    case Kernel::kAdx:
    case Kernel::kAuto:
      return field::cpu_has_adx();
  }
  return false;
}

template <size_t A>
Kernels kernels_for(bool adx) {
  constexpr size_t kLanes = batch_lanes(A);
  if (adx) return {permute_bmi2<A + 1, 1>, permute_bmi2<A + 1, kLanes>};
  return {permute_generic<A + 1, 1>, permute_generic<A + 1, kLanes>};
}

using KernelTable = std::array<Kernels, kSupportedArities.size()>;

KernelTable make_table(bool adx) {
  return {kernels_for<2>(adx),  kernels_for<4>(adx),  kernels_for<8>(adx), kernels_for<11>(adx),
          kernels_for<16>(adx), kernels_for<24>(adx), kernels_for<36>(adx)};
}

const Kernels& kernels(size_t arity) {
  static const KernelTable kGenericTable = make_table(false);
  static const KernelTable kAdxTable = make_table(true);
  const KernelTable& table = use_bmi2() ? kAdxTable : kGenericTable;
  for (size_t i = 0; i < kSupportedArities.size(); ++i) {
    if (kSupportedArities[i] == arity) return table[i];
  }
  throw PoseidonError("poseidon arity " + std::to_string(arity) +
                      ": unsupported (use one of 2, 4, 8, 11, 16, 24, 36)");
}

void check_input_count(size_t arity, size_t count) {
  if (count > arity) {
    throw PoseidonError("poseidon arity " + std::to_string(arity) + ": " + std::to_string(count) +
                        " inputs exceed the arity (pass at most arity elements)");
  }
}

}  // namespace

Fr hash_with_tag(size_t arity, const Fr& tag, std::span<const Fr> inputs) {
  check_input_count(arity, inputs.size());
  const Constants& c = constants(arity);
  Fr state[kMaxArity + 1];
  state[0] = tag;
  for (size_t i = 0; i < inputs.size(); ++i) state[i + 1] = inputs[i];
  for (size_t i = inputs.size() + 1; i <= arity; ++i) state[i] = Fr();
  kernels(arity).single(c, state);
  return state[1];
}

Fr hash(std::span<const Fr> inputs) {
  return hash_with_tag(inputs.size(), merkle_tree_tag(inputs.size()), inputs);
}

Fr hash_constant_length(size_t arity, std::span<const Fr> inputs) {
  return hash_with_tag(arity, constant_length_tag(inputs.size()), inputs);
}

Fr hash_plain(size_t arity, const Fr& tag, std::span<const Fr> inputs) {
  check_input_count(arity, inputs.size());
  const Constants& c = constants(arity);
  const size_t t = c.width;
  std::vector<Fr> s(t);
  s[0] = tag;
  for (size_t i = 0; i < inputs.size(); ++i) s[i + 1] = inputs[i];
  std::vector<Fr> tmp(t);
  size_t k = 0;
  auto round = [&](bool full) {
    for (size_t i = 0; i < t; ++i) s[i] += c.round_constants[k + i];
    k += t;
    if (full) {
      for (auto& x : s) x = x.pow5();
    } else {
      s[0] = s[0].pow5();
    }
    for (size_t i = 0; i < t; ++i) {
      Fr acc;
      for (size_t j = 0; j < t; ++j) acc += c.mds[i * t + j] * s[j];
      tmp[i] = acc;
    }
    s.swap(tmp);
  };
  for (size_t r = 0; r < c.full_rounds / 2; ++r) round(true);
  for (size_t r = 0; r < c.partial_rounds; ++r) round(false);
  for (size_t r = 0; r < c.full_rounds / 2; ++r) round(true);
  return s[1];
}

void hash_batch(size_t arity, const Fr* inputs, Fr* out, size_t n) {
  const Constants& c = constants(arity);
  const Kernels& k = kernels(arity);
  const size_t t = arity + 1;
  const Fr tag = merkle_tree_tag(arity);
  const size_t lanes = batch_lanes(arity);
  Fr state[kMaxBatchLanes * (kMaxArity + 1)];
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (size_t l = 0; l < lanes; ++l) {
      state[l * t] = tag;
      for (size_t j = 0; j < arity; ++j) state[l * t + 1 + j] = inputs[(i + l) * arity + j];
    }
    k.batch(c, state);
    for (size_t l = 0; l < lanes; ++l) out[i + l] = state[l * t + 1];
  }
  for (; i < n; ++i) {
    state[0] = tag;
    for (size_t j = 0; j < arity; ++j) state[1 + j] = inputs[i * arity + j];
    k.single(c, state);
    out[i] = state[1];
  }
}

void hash_batch_bytes(size_t arity, const uint8_t* inputs, uint8_t* out, size_t n) {
  constexpr size_t kChunk = 64;
  std::vector<Fr> in(kChunk * arity);
  std::vector<Fr> res(kChunk);
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t i = 0; i < m * arity; ++i) {
      const size_t index = base * arity + i;
      auto f = Fr::from_bytes(inputs + 32 * index);
      if (!f) {
        throw field::FieldError("poseidon batch input element " + std::to_string(index) +
                                ": 32-byte value is not a canonical field element (>= r)");
      }
      in[i] = *f;
    }
    hash_batch(arity, in.data(), res.data(), m);
    for (size_t i = 0; i < m; ++i) res[i].to_bytes(out + 32 * (base + i));
  }
}

const char* kernel_name() {
  return use_bmi2() ? "bmi2-adx" : "generic";
}

void set_kernel(Kernel kernel) {
  if (kernel == Kernel::kAdx && !field::cpu_has_adx()) {
    throw PoseidonError("poseidon kernel bmi2-adx: this CPU lacks BMI2/ADX (use auto or generic)");
  }
  g_kernel.store(kernel, std::memory_order_relaxed);
}

}  // namespace sealhost::proofs::poseidon
