// Branch-free activations that the compiler vectorises. float uses polynomial
// approximations, with errors against float64 tested in tests/test_activations.py:
// sigmoid within 5e-7 relative for x >= -87 (below, it stays at sigmoid(-87) = 1.6e-38,
// a normal number, so nothing downstream turns denormal), tanh within 5e-7 absolute.
// double calls libm so that float64 gradient checks are exact to rounding.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include "isa.h"
#include "minrnn/minrnn.h"

namespace minrnn::MINRNN_ISA {

// min/max as plain selects (std::fmin's NaN rules keep it from vectorising).
template <class F>
MINRNN_INLINE F clamp(F x, F lo, F hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

// e^x for float: x = n ln2 + r, |r| <= ln2/2, e^r by the Cephes degree-6 polynomial,
// 2^n written into the exponent bits. Inputs are clamped to [-87, 87], where e^x and
// 1 / (1 + e^x) are normal numbers (no denormal stalls).
MINRNN_INLINE float exp_approx(float x) {
  x = clamp(x, -87.0f, 87.0f);
  // round(x*log2e) with the 1.5*2^23 trick: exact round-to-nearest, vectorises without SSE4.1.
  // n also sits in the low mantissa bits of t, read as an integer below: no float-to-int
  // conversion, so a NaN x (which reaches t) stays defined behaviour and gives NaN.
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t tbits;
  std::memcpy(&tbits, &t, sizeof tbits);
  const uint32_t bits = (tbits - 0x4B400000u + 127u) << 23;  // 2^n: 0x4B400000 is shifter's bits
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// sigmoid, > 0 for every finite input (so f + i > 0 in MinLSTM): float through the
// clamped exp_approx, double clamped to |x| <= 700 where exp is finite.
MINRNN_INLINE float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }
MINRNN_INLINE double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-clamp(x, -700.0, 700.0))); }

// tanh for float: the rational approximation used by Eigen (odd degree 13 / even degree 6)
// on the clamp |x| <= 7.905, where float tanh rounds to +-1.
MINRNN_INLINE float tanh_(float x) {
  const float c = 7.90531110763549805f;
  x = clamp(x, -c, c);
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}
MINRNN_INLINE double tanh_(double x) { return std::tanh(x); }

// Candidate activation of the min cells and its derivative with respect to its input.
template <Candidate C, class F>
MINRNN_INLINE F candidate(F x) {
  if constexpr (C == Candidate::G) {
    F s = sigmoid(x);
    return x >= F(0) ? x + F(0.5) : s;
  } else if constexpr (C == Candidate::Tanh) {
    return tanh_(x);
  } else {
    return x;
  }
}
template <Candidate C, class F>
MINRNN_INLINE F candidate_grad(F x) {
  if constexpr (C == Candidate::G) {
    F s = sigmoid(x);
    return x >= F(0) ? F(1) : s * (F(1) - s);
  } else if constexpr (C == Candidate::Tanh) {
    F t = tanh_(x);
    return F(1) - t * t;
  } else {
    (void)x;
    return F(1);
  }
}

}  // namespace minrnn::MINRNN_ISA
