// The v-predicting DDPM on fields (diffusion/field_diffusion.hpp), instantiated for float and
// double. Checked against a plain-PyTorch UNet in tests/nn/test_unet.cpp (loss and every
// gradient) and statistically in tests/diffusion/test_field_diffusion.cpp.
#include "eqflow/diffusion/field_diffusion.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "eqflow/core/error.hpp"

namespace eqflow::diffusion {
namespace {

//! The noise streams: the initial draws of a sample and, per step, the ancestral noise.
CounterRng noise_stream(const CounterRng& rng, std::uint64_t purpose) {
  return CounterRng(rng.seed(), mix64(rng.stream() ^ mix64(purpose + 0x5EED5EEDull)));
}
constexpr std::uint64_t kTrainingNoise = 1;
constexpr std::uint64_t kSamplerStart = 2;
constexpr std::uint64_t kSamplerStep = 3;  // + step

}  // namespace

FieldSampler parse_field_sampler(const std::string& name) {
  if (name == "ddpm") return FieldSampler::Ddpm;
  if (name == "ddim") return FieldSampler::Ddim;
  throw Error(fmt::format("sampler '{}': expected ddpm or ddim", name));
}

std::string to_string(FieldSampler sampler) {
  return sampler == FieldSampler::Ddpm ? "ddpm" : "ddim";
}

template <class Scalar>
FieldDiffusion<Scalar>::FieldDiffusion(nn::UNetConfig config, NoiseSchedule schedule)
    : schedule_(std::move(schedule)), unet_(std::move(config)) {}

template <class Scalar>
void FieldDiffusion<Scalar>::ensure(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  if (c != channels()) {
    throw ShapeError(fmt::format("score model of {} channels given fields of {}", channels(), c));
  }
  if (x_t_.extent(0) == n && x_t_.extent(1) == c && x_t_.extent(2) == h && x_t_.extent(3) == w) {
    return;
  }
  auto field = [&](const std::string& label) {
    return View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), n, c, h, w);
  };
  x_t_ = View4<Scalar>(), target_ = View4<Scalar>(), prediction_ = View4<Scalar>();
  gprediction_ = View4<Scalar>();
  x_t_ = field("eqflow::FieldDiffusion::x_t");
  target_ = field("eqflow::FieldDiffusion::target");
  prediction_ = field("eqflow::FieldDiffusion::prediction");
  gprediction_ = field("eqflow::FieldDiffusion::gprediction");
  signal_ = View1<Scalar>("eqflow::FieldDiffusion::signal", n);
  noise_scale_ = View1<Scalar>("eqflow::FieldDiffusion::noise_scale", n);
  steps_ = View1<Scalar>("eqflow::FieldDiffusion::steps", n);
}

namespace {

//! Per-sample sqrt(a_t), sqrt(1 - a_t) and the step itself into device Views.
template <class Scalar>
void upload_steps(const NoiseSchedule& schedule, const std::vector<int>& steps,
                  const View1<Scalar>& signal, const View1<Scalar>& noise_scale,
                  const View1<Scalar>& step_values) {
  auto hs = Kokkos::create_mirror_view(signal);
  auto hn = Kokkos::create_mirror_view(noise_scale);
  auto ht = Kokkos::create_mirror_view(step_values);
  for (std::size_t b = 0; b < steps.size(); ++b) {
    if (steps[b] < 0 || steps[b] >= schedule.steps()) {
      throw Error(fmt::format("diffusion step {} outside [0, {})", steps[b], schedule.steps()));
    }
    const double a = schedule.alpha_bar(steps[b]);
    hs(b) = static_cast<Scalar>(std::sqrt(a));
    hn(b) = static_cast<Scalar>(std::sqrt(1.0 - a));
    ht(b) = static_cast<Scalar>(steps[b]);
  }
  Kokkos::deep_copy(signal, hs);
  Kokkos::deep_copy(noise_scale, hn);
  Kokkos::deep_copy(step_values, ht);
}

}  // namespace

template <class Scalar>
double FieldDiffusion<Scalar>::loss(const nn::ConstField<Scalar>& x0,
                                    const std::vector<std::uint64_t>& draws, const CounterRng& rng,
                                    double normaliser, bool gradient) {
  const std::size_t n = x0.extent(0);
  require_shape(draws.size() == n, "FieldDiffusion::loss: one draw id per sample");
  ensure(n, x0.extent(1), x0.extent(2), x0.extent(3));
  std::vector<int> steps(n);
  for (std::size_t b = 0; b < n; ++b) {
    const int t = static_cast<int>(rng.uniform(draws[b]) * schedule_.steps());
    steps[b] = std::min(t, schedule_.steps() - 1);
  }
  upload_steps(schedule_, steps, signal_, noise_scale_, steps_);
  View1<std::uint64_t> ids("eqflow::FieldDiffusion::draws", n);
  auto host_ids = Kokkos::create_mirror_view(ids);
  for (std::size_t b = 0; b < n; ++b) host_ids(b) = draws[b];
  Kokkos::deep_copy(ids, host_ids);

  const std::size_t elements = x0.extent(1) * x0.extent(2) * x0.extent(3);
  const CounterRng noise = noise_stream(rng, kTrainingNoise);
  auto x_t = x_t_, target = target_;
  auto signal = signal_, noise_scale = noise_scale_;
  Kokkos::parallel_for(
      "eqflow::FieldDiffusion::noise", RangePolicy(0, n * elements),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t b = i / elements, e = i % elements;
        const Scalar eps = static_cast<Scalar>(noise.normal(ids(b) * elements + e));
        const Scalar x = x0.data()[i];
        x_t.data()[i] = signal(b) * x + noise_scale(b) * eps;
        target.data()[i] = signal(b) * eps - noise_scale(b) * x;
      });
  return finish_loss(normaliser, gradient);
}

template <class Scalar>
double FieldDiffusion<Scalar>::loss_with_noise(const nn::ConstField<Scalar>& x0,
                                               const std::vector<int>& steps,
                                               const nn::ConstField<Scalar>& eps, double normaliser,
                                               bool gradient) {
  const std::size_t n = x0.extent(0);
  require_shape(steps.size() == n && eps.size() == x0.size(),
                "FieldDiffusion::loss_with_noise: one step per sample, eps shaped as x0");
  ensure(n, x0.extent(1), x0.extent(2), x0.extent(3));
  upload_steps(schedule_, steps, signal_, noise_scale_, steps_);
  const std::size_t elements = x0.extent(1) * x0.extent(2) * x0.extent(3);
  auto x_t = x_t_, target = target_;
  auto signal = signal_, noise_scale = noise_scale_;
  Kokkos::parallel_for(
      "eqflow::FieldDiffusion::noise", RangePolicy(0, n * elements),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t b = i / elements;
        const Scalar e = eps.data()[i], x = x0.data()[i];
        x_t.data()[i] = signal(b) * x + noise_scale(b) * e;
        target.data()[i] = signal(b) * e - noise_scale(b) * x;
      });
  return finish_loss(normaliser, gradient);
}

namespace {

//! sum (prediction - target)^2 and, when `gradient`, gprediction = scale (prediction - target).
//! (A free function: CUDA's extended lambdas may not live in private member functions.)
template <class Scalar>
double squared_error(const View4<Scalar>& prediction, const View4<Scalar>& target,
                     const View4<Scalar>& gprediction, Scalar scale, bool gradient) {
  double sum = 0.0;
  Kokkos::parallel_reduce(
      "eqflow::FieldDiffusion::loss", RangePolicy(0, prediction.size()),
      KOKKOS_LAMBDA(const std::size_t i, double& acc) {
        const double r = double(prediction.data()[i]) - double(target.data()[i]);
        acc += r * r;
      },
      sum);
  if (gradient) {
    Kokkos::parallel_for(
        "eqflow::FieldDiffusion::gloss", RangePolicy(0, prediction.size()),
        KOKKOS_LAMBDA(const std::size_t i) {
          gprediction.data()[i] = scale * (prediction.data()[i] - target.data()[i]);
        });
  }
  return sum;
}

}  // namespace

template <class Scalar>
double FieldDiffusion<Scalar>::finish_loss(double normaliser, bool gradient) {
  unet_.forward(x_t_, steps_, prediction_);
  const double sum = squared_error(prediction_, target_, gprediction_,
                                   static_cast<Scalar>(2.0 / normaliser), gradient);
  if (gradient) unet_.backward(gprediction_, nn::MutField<Scalar>());
  return sum / normaliser;
}

template <class Scalar>
void FieldDiffusion<Scalar>::predict(const nn::ConstField<Scalar>& x, const std::vector<int>& steps,
                                     const nn::MutField<Scalar>& v) {
  require_shape(steps.size() == x.extent(0), "FieldDiffusion::predict: one step per sample");
  ensure(x.extent(0), x.extent(1), x.extent(2), x.extent(3));
  upload_steps(schedule_, steps, signal_, noise_scale_, steps_);
  unet_.forward(x, steps_, v);
}

template <class Scalar>
void FieldDiffusion<Scalar>::denoise(const nn::ConstField<Scalar>& x, int step,
                                     const nn::MutField<Scalar>& x0_hat) {
  predict(x, std::vector<int>(x.extent(0), step), prediction_);
  const double a = schedule_.alpha_bar(step);
  const Scalar sa = static_cast<Scalar>(std::sqrt(a)), sb = static_cast<Scalar>(std::sqrt(1 - a));
  auto v = prediction_;
  Kokkos::parallel_for(
      "eqflow::FieldDiffusion::denoise", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        x0_hat.data()[i] = sa * x.data()[i] - sb * v.data()[i];
      });
}

template <class Scalar>
void FieldDiffusion<Scalar>::score(const nn::ConstField<Scalar>& x, int step,
                                   const nn::MutField<Scalar>& s) {
  predict(x, std::vector<int>(x.extent(0), step), prediction_);
  // s = -x - sqrt(a / (1 - a)) v_hat
  const double a = schedule_.alpha_bar(step);
  const Scalar ratio = static_cast<Scalar>(std::sqrt(a / (1 - a)));
  auto v = prediction_;
  Kokkos::parallel_for(
      "eqflow::FieldDiffusion::score", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { s.data()[i] = -x.data()[i] - ratio * v.data()[i]; });
}

template <class Scalar>
void FieldDiffusion<Scalar>::sample(const nn::MutField<Scalar>& x, FieldSampler sampler,
                                    int ddim_steps, const CounterRng& rng,
                                    std::uint64_t first_sample) {
  const int total = schedule_.steps();
  if (sampler == FieldSampler::Ddim && (ddim_steps < 1 || ddim_steps > total)) {
    throw Error(fmt::format("DDIM steps {}: expected 1 .. {}", ddim_steps, total));
  }
  const std::size_t n = x.extent(0), elements = x.size() / std::max<std::size_t>(n, 1);
  const CounterRng start = noise_stream(rng, kSamplerStart);
  Kokkos::parallel_for(
      "eqflow::FieldDiffusion::sample_start", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        x.data()[i] = static_cast<Scalar>(
            start.normal((first_sample + i / elements) * elements + i % elements));
      });
  std::vector<int> steps;
  const int ratio = sampler == FieldSampler::Ddpm ? 1 : total / ddim_steps;
  const int count = sampler == FieldSampler::Ddpm ? total : ddim_steps;
  for (int k = count - 1; k >= 0; --k) steps.push_back(k * ratio);

  for (const int t : steps) {
    predict(x, std::vector<int>(n, t), prediction_);
    const int prev = t - ratio;
    const double a = schedule_.alpha_bar(t), a_prev = prev >= 0 ? schedule_.alpha_bar(prev) : 1.0;
    const Scalar sa = static_cast<Scalar>(std::sqrt(a)), sb = static_cast<Scalar>(std::sqrt(1 - a));
    auto v = prediction_;
    if (sampler == FieldSampler::Ddim) {
      const Scalar keep = static_cast<Scalar>(std::sqrt(a_prev));
      const Scalar direction = static_cast<Scalar>(std::sqrt(1 - a_prev));
      Kokkos::parallel_for(
          "eqflow::FieldDiffusion::ddim", RangePolicy(0, x.size()),
          KOKKOS_LAMBDA(const std::size_t i) {
            const Scalar xi = x.data()[i], vi = v.data()[i];
            Scalar x0 = sa * xi - sb * vi;
            x0 = x0 < Scalar(-1) ? Scalar(-1) : (x0 > Scalar(1) ? Scalar(1) : x0);
            const Scalar eps = sa * vi + sb * xi;
            x.data()[i] = keep * x0 + direction * eps;
          });
    } else {
      const double alpha = a / a_prev, beta = 1 - alpha;
      const Scalar c0 = static_cast<Scalar>(std::sqrt(a_prev) * beta / (1 - a));
      const Scalar c1 = static_cast<Scalar>(std::sqrt(alpha) * (1 - a_prev) / (1 - a));
      const Scalar sigma =
          t > 0 ? static_cast<Scalar>(std::sqrt(std::max((1 - a_prev) / (1 - a) * beta, 1e-20)))
                : Scalar(0);
      const CounterRng z = noise_stream(rng, kSamplerStep + static_cast<std::uint64_t>(t));
      Kokkos::parallel_for(
          "eqflow::FieldDiffusion::ddpm", RangePolicy(0, x.size()),
          KOKKOS_LAMBDA(const std::size_t i) {
            const Scalar xi = x.data()[i], vi = v.data()[i];
            Scalar x0 = sa * xi - sb * vi;
            x0 = x0 < Scalar(-1) ? Scalar(-1) : (x0 > Scalar(1) ? Scalar(1) : x0);
            Scalar next = c0 * x0 + c1 * xi;
            if (sigma > Scalar(0)) {
              next += sigma * static_cast<Scalar>(z.normal(
                                  (first_sample + i / elements) * elements + i % elements));
            }
            x.data()[i] = next;
          });
    }
  }
}

template class FieldDiffusion<float>;
template class FieldDiffusion<double>;

}  // namespace eqflow::diffusion
