// The UNet score model against a plain-PyTorch twin of diffusers' UNet2DModel
// (tests/data/unet_crosscheck.h5, written by bench/unet_torch.py crosscheck; running this test
// needs no PyTorch): for the same weights (matched tensor by tensor through diffusers' state_dict
// names), inputs, steps and noise, in double precision, the time embedding, the output, the
// v-prediction loss, every parameter gradient and the input gradient agree to 1e-10 of the
// largest magnitude of each reference vector. Plus finite differences on the whole network and
// the shape rules.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/field_diffusion.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/nn/unet.hpp"
#include "support/crosscheck.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

constexpr double kTolerance = 1e-10;

//! One case of the file (the root, or a group such as "/c3").
void check_case(const io::H5File& file, const std::string& group) {
  const auto at = [&](const std::string& name) { return group + "/" + name; };
  nn::UNetConfig config;
  config.channels = static_cast<std::size_t>(file.attribute_int(group, "channels"));
  diffusion::FieldDiffusion<double> model(config, diffusion::NoiseSchedule::linear_betas());
  auto& unet = model.unet();
  auto& store = unet.parameters();
  ASSERT_EQ(store.num_parameters(),
            static_cast<std::size_t>(file.attribute_int(group, "parameter_count")));

  // PyTorch's flat layout -> eqflow's, by name.
  const auto names = file.read_strings(at("layout/names"));
  const auto offsets = file.read_ints(at("layout/offsets"));
  const auto ranks = file.read_ints(at("layout/ranks"));
  const auto shapes = file.read_ints(at("layout/shapes"));
  std::map<std::string, const nn::TensorSlot*> ours;
  for (const auto& slot : store.parameter_slots()) ours[slot.name] = &slot;
  ASSERT_EQ(names.size(), ours.size()) << group;
  std::vector<std::size_t> to_ours(store.num_parameters());
  std::size_t extent_at = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const auto found = ours.find(names[k]);
    ASSERT_NE(found, ours.end()) << "PyTorch tensor " << names[k] << " has no eqflow twin";
    std::vector<std::size_t> extents;
    for (std::int64_t r = 0; r < ranks[k]; ++r) {
      extents.push_back(static_cast<std::size_t>(shapes[extent_at++]));
    }
    ASSERT_EQ(extents, found->second->extents) << names[k];
    for (std::size_t i = 0; i < found->second->size(); ++i) {
      to_ours[static_cast<std::size_t>(offsets[k]) + i] = found->second->offset + i;
    }
  }
  const auto torch_params = file.read_doubles(at("parameters"));
  std::vector<double> params(store.num_parameters());
  for (std::size_t i = 0; i < params.size(); ++i) params[to_ours[i]] = torch_params[i];
  test::from_vector(store.values(), params);

  const auto x0 = test::read_field(file, at("x0"));
  const auto eps = test::read_field(file, at("eps"));
  const auto x_t = test::read_field(file, at("x_t"));
  std::vector<int> steps;
  for (auto t : file.read_ints(at("t"))) steps.push_back(static_cast<int>(t));
  const double elements = static_cast<double>(x0.size());

  // Loss and parameter gradients through the diffusion model.
  store.zero_gradients();
  const double loss = model.loss_with_noise(x0, steps, eps, elements, true);
  const auto torch_loss = file.read_double(at("loss"));
  EXPECT_LE(std::abs(loss - torch_loss), kTolerance * std::abs(torch_loss))
      << group << ": eqflow " << loss << ", PyTorch " << torch_loss;
  const auto grads = test::to_vector(store.gradients());
  const auto torch_grads = file.read_doubles(at("gradient"));
  std::vector<double> mapped(grads.size());
  for (std::size_t i = 0; i < grads.size(); ++i) mapped[i] = grads[to_ours[i]];
  // Per tensor, relative to the tensor's largest entry (to_k.bias: zero in exact arithmetic,
  // roundoff in both codes, compared absolutely against the largest gradient).
  double scale = 0;
  for (double g : torch_grads) scale = std::max(scale, std::abs(g));
  double worst = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::size_t begin = static_cast<std::size_t>(offsets[k]);
    const std::size_t end =
        k + 1 < names.size() ? static_cast<std::size_t>(offsets[k + 1]) : torch_grads.size();
    const std::vector<double> a(mapped.begin() + long(begin), mapped.begin() + long(end));
    const std::vector<double> b(torch_grads.begin() + long(begin), torch_grads.begin() + long(end));
    double local_scale = 0, diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      local_scale = std::max(local_scale, std::abs(b[i]));
      diff = std::max(diff, std::abs(a[i] - b[i]));
    }
    const bool zero = names[k] == "mid_block.attentions.0.to_k.bias";
    const double error = zero ? diff / scale : diff / local_scale;
    worst = std::max(worst, error);
    EXPECT_LE(error, kTolerance) << group << " gradient of " << names[k];
  }
  std::printf("[ crosscheck ] %s: loss %.6e, worst per-tensor gradient error %.2e\n", group.c_str(),
              loss, worst);

  // Output, time embedding path and input gradient through the UNet itself.
  View1<double> t("t", steps.size());
  test::from_vector(t, std::vector<double>(steps.begin(), steps.end()));
  View4<double> y("y", x_t.extent(0), x_t.extent(1), x_t.extent(2), x_t.extent(3));
  unet.forward(x_t, t, y);
  EXPECT_LE(test::relative_error(test::to_vector(y), file.read_doubles(at("output"))), kTolerance);
  const auto target = file.read_doubles(at("target"));
  auto gy_values = test::to_vector(y);
  for (std::size_t i = 0; i < gy_values.size(); ++i) {
    gy_values[i] = 2 * (gy_values[i] - target[i]) / elements;
  }
  View4<double> gy("gy", y.extent(0), y.extent(1), y.extent(2), y.extent(3));
  test::from_vector(gy, gy_values);
  View4<double> gx("gx", y.extent(0), y.extent(1), y.extent(2), y.extent(3));
  store.zero_gradients();
  unet.backward(gy, gx);
  EXPECT_LE(test::relative_error(test::to_vector(gx), file.read_doubles(at("input_gradient"))),
            kTolerance);
}

TEST(UNetCrosscheck, TwoChannels16x16MatchesPyTorch) {
  const auto file =
      io::H5File::open(std::string(EQFLOW_SOURCE_DIR) + "/tests/data/unet_crosscheck.h5");
  EXPECT_EQ(file.attribute_string("/", "dtype"), "float64");
  check_case(file, "/");
}

TEST(UNetCrosscheck, ThreeChannels8x8MatchesPyTorch) {
  const auto file =
      io::H5File::open(std::string(EQFLOW_SOURCE_DIR) + "/tests/data/unet_crosscheck.h5");
  check_case(file, "/c3");
}

//! A small UNet (channels 8/16, one layer per block, 4 groups, head dim 4) in double: the
//! gradient of <w, unet(x, t)> against central differences at a few entries of every tensor and
//! of x.
TEST(UNet, FiniteDifferencesThroughTheWholeNetwork) {
  nn::UNetConfig config;
  config.channels = 2;
  config.block_channels = {8, 16};
  config.layers_per_block = 1;
  config.groups = 4;
  config.head_dim = 4;
  nn::UNet<double> unet(config);
  unet.initialize(11);
  auto& store = unet.parameters();
  // Non-trivial norms (PyTorch's init leaves weight 1, bias 0).
  auto values = test::to_vector(store.values());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] += 0.05 * std::sin(double(i));
  test::from_vector(store.values(), values);
  const std::size_t n = 2, h = 4, w = 6;
  View4<double> x("x", n, 2, h, w), y("y", n, 2, h, w), gw("w", n, 2, h, w), gx("gx", n, 2, h, w);
  fill_normal(x, CounterRng(1, 1), 0);
  fill_normal(gw, CounterRng(1, 2), 0);
  View1<double> t("t", n);
  test::from_vector(t, {3.0, 71.0});
  auto loss = [&] {
    unet.forward(x, t, y);
    return test::dot(gw, y);
  };
  loss();
  store.zero_gradients();
  unet.backward(gw, gx);
  const auto grads = test::to_vector(store.gradients());
  std::vector<std::size_t> picks;
  for (const auto& slot : store.parameter_slots()) {
    for (std::size_t i : {std::size_t(0), slot.size() / 2, slot.size() - 1}) {
      picks.push_back(slot.offset + i);
    }
  }
  const auto fd = test::finite_difference_at(store.values(), loss, picks, 1e-5);
  std::vector<double> picked;
  for (auto i : picks) picked.push_back(grads[i]);
  test::expect_close(picked, fd, 1e-6, 1e-6, "UNet parameters");
  const std::vector<std::size_t> x_picks{0, 7, 25, 47};
  const auto gxs = test::to_vector(gx);
  std::vector<double> gx_picked;
  for (auto i : x_picks) gx_picked.push_back(gxs[i]);
  test::expect_close(gx_picked, test::finite_difference_at(x, loss, x_picks, 1e-5), 1e-6, 1e-6,
                     "UNet input");
}

TEST(UNet, RejectsSidesThatDoNotHalve) {
  nn::UNet<float> unet(nn::UNetConfig{});
  View4<float> x("x", 1, 2, 10, 16), y("y", 1, 2, 10, 16);
  View1<float> t("t", 1);
  try {
    unet.forward(x, t, y);
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 4"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eqflow
