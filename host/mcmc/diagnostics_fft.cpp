// Autocovariances of every lag by FFT, as arviz's autocov: the ESS estimator switches to this when
// Geyer's truncation reaches far (chains that mix slowly), where summing each lag directly would
// cost O(draws^2) per chain. Radix-2, zero-padded to at least twice the length (no wrap-around).
#include <cmath>
#include <complex>
#include <utility>
#include <vector>

#include "host/mcmc/diagnostics_impl.hpp"

namespace cusbi::detail {

namespace {

using Complex = std::complex<double>;

// In-place iterative Cooley-Tukey FFT of a power-of-two length; inverse without the 1/n factor.
// twiddle[k] = exp(-2 pi i k / n), k < n / 2, each from cos/sin directly (no accumulated error).
void fft(std::vector<Complex>& a, const std::vector<Complex>& twiddle, bool inverse) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t stride = n / len;
    for (size_t start = 0; start < n; start += len)
      for (size_t k = 0; k < len / 2; ++k) {
        const Complex w = inverse ? std::conj(twiddle[k * stride]) : twiddle[k * stride];
        const Complex u = a[start + k], v = a[start + k + len / 2] * w;
        a[start + k] = u + v;
        a[start + k + len / 2] = u - v;
      }
  }
}

}  // namespace

std::vector<double> mean_autocov_fft(const SplitChains& s) {
  const size_t m = static_cast<size_t>(s.draws);
  size_t n = 1;
  while (n < 2 * m) n <<= 1;
  std::vector<Complex> twiddle(n / 2);
  for (size_t k = 0; k < n / 2; ++k) {
    const double angle = -2.0 * M_PI * static_cast<double>(k) / static_cast<double>(n);
    twiddle[k] = {std::cos(angle), std::sin(angle)};
  }
  std::vector<double> total(m, 0.0);
  std::vector<Complex> a(n);
  for (int64_t c = 0; c < s.chains; ++c) {
    const double* chain = s.x.data() + c * s.draws;
    double mean = 0.0;
    for (size_t i = 0; i < m; ++i) mean += chain[i];
    mean /= static_cast<double>(m);
    for (size_t i = 0; i < n; ++i) a[i] = i < m ? Complex(chain[i] - mean, 0.0) : Complex();
    fft(a, twiddle, false);
    for (Complex& v : a) v = Complex(std::norm(v), 0.0);  // power spectrum
    fft(a, twiddle, true);
    // Inverse FFT's 1/n, then arviz's 1/M per lag.
    for (size_t lag = 0; lag < m; ++lag)
      total[lag] += a[lag].real() / static_cast<double>(n) / static_cast<double>(m);
  }
  for (double& v : total) v /= static_cast<double>(s.chains);
  return total;
}

}  // namespace cusbi::detail
