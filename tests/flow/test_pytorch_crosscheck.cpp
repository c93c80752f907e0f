// eqflow against PyTorch: the equilibrium loss (exact and Hutchinson divergence) of a
// FlowKernel and the score MLP's denoising loss, with every parameter gradient, compared in
// double precision with values PyTorch computed from the same weights, points, probes, times
// and noise (tests/data/pytorch_crosscheck.h5, written by bench/make_crosscheck.py; running
// this test needs no PyTorch). Tolerance: every entry within 1e-10 of the largest magnitude
// of its reference vector, |a_i - b_i| <= 1e-10 max(|b_i|, max_j |b_j|).
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "eqflow/diffusion/denoising_loss.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

constexpr double kTolerance = 1e-10;

std::string data_file() {
  return std::string(EQFLOW_SOURCE_DIR) + "/tests/data/pytorch_crosscheck.h5";
}

//! The parameter slot table in the generator's format: "name offset [e0, e1]" per line.
std::string layout_of(const nn::ParameterStore<double>& store) {
  std::string out;
  for (const auto& slot : store.parameter_slots()) {
    out += fmt::format("{} {} [", slot.name, slot.offset);
    for (std::size_t i = 0; i < slot.extents.size(); ++i) {
      out += fmt::format("{}{}", i == 0 ? "" : ", ", slot.extents[i]);
    }
    out += "]\n";
  }
  return out;
}

View2<double> device_matrix(const io::H5File& file, const std::string& path) {
  std::vector<std::size_t> shape;
  const auto values = file.read_doubles(path, &shape);
  EXPECT_EQ(shape.size(), 2u) << path;
  View2<double> out(path, shape.at(0), shape.at(1));
  test::from_vector(out, values);
  return out;
}

//! Expects every entry of `got` within kTolerance * max(|ref_i|, max_j |ref_j|) of `ref`;
//! prints and returns the largest |got_i - ref_i| / max_j |ref_j|, and prints for information
//! the largest entry-wise |got_i - ref_i| / |ref_i| over the entries that are not zero up to
//! rounding (|ref_i| > 1e-12 max_j |ref_j|: the gradient of the bias before the final batch
//! norm is exactly zero in exact arithmetic, about 1e-14 in both codes).
double expect_matches(const std::vector<double>& got, const std::vector<double>& ref,
                      const std::string& what) {
  EXPECT_EQ(got.size(), ref.size()) << what;
  if (got.size() != ref.size() || ref.empty()) return 0.0;
  double scale = 0.0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  double worst = 0.0, worst_entry = 0.0;
  int failures = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::abs(got[i] - ref[i]);
    const double tol = kTolerance * std::max(std::abs(ref[i]), scale);
    worst = std::max(worst, scale > 0 ? diff / scale : diff);
    if (std::abs(ref[i]) > 1e-12 * scale) {
      worst_entry = std::max(worst_entry, diff / std::abs(ref[i]));
    }
    if (!(diff <= tol) && failures++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: eqflow " << got[i] << ", PyTorch " << ref[i]
                    << " (difference " << diff << ", tolerance " << tol << ")";
    }
  }
  std::printf(
      "[ crosscheck ] %-28s max |a - b| / max|b| = %.2e, max |a - b| / |b| = %.2e (|b| > 1e-12 "
      "max|b|)\n",
      what.c_str(), worst, worst_entry);
  return worst;
}

class PytorchCrosscheck : public ::testing::Test {
 protected:
  PytorchCrosscheck() : file_(io::H5File::open(data_file())) {}
  io::H5File file_;
};

TEST_F(PytorchCrosscheck, FileDescribesItself) {
  EXPECT_FALSE(file_.attribute_string("/", "torch_version").empty());
  EXPECT_EQ(file_.attribute_string("/", "dtype"), "float64");
  EXPECT_EQ(file_.attribute_int("/flow", "dim"), 3);
  EXPECT_EQ(file_.attribute_int("/flow", "hidden"), 8);
  EXPECT_EQ(file_.attribute_int("/score", "dim"), 2);
}

void check_flow(const io::H5File& file, flow::DivergenceEstimator estimator,
                const std::string& group) {
  const auto d = static_cast<std::size_t>(file.attribute_int("/flow", "dim"));
  const auto hidden = static_cast<std::size_t>(file.attribute_int("/flow", "hidden"));
  const int frequencies = static_cast<int>(file.attribute_int("/flow", "frequencies"));
  const int probes = static_cast<int>(file.attribute_int("/flow", "probes"));
  nn::Model<double> model(nn::make_flow_kernel<double>(d, hidden, frequencies, true), 1);
  // The flat layout PyTorch's values are stored in must be eqflow's.
  ASSERT_EQ(layout_of(model.parameters()), file.attribute_string("/flow", "layout"));
  const auto params = file.read_doubles("/flow/parameters");
  ASSERT_EQ(params.size(), model.parameters().num_parameters());
  test::from_vector(model.parameters().values(), params);

  const auto x = device_matrix(file, "/flow/x");
  const auto score = device_matrix(file, "/flow/score");
  const auto z = estimator == flow::DivergenceEstimator::Exact
                     ? View2<double>()
                     : device_matrix(file, "/flow/probes");
  flow::EquilibriumLoss<double> loss(estimator, probes);
  model.zero_gradients();
  const double value = loss.evaluate_with_probes(model, x, score, z, nn::Mode::Train, true);

  expect_matches({value}, {file.read_double(group + "/loss")}, group + "/loss");
  expect_matches(test::to_vector(loss.velocity()), file.read_doubles("/flow/velocity"),
                 group + " velocity");
  expect_matches(test::to_vector(loss.divergence()), file.read_doubles(group + "/divergence"),
                 group + "/divergence");
  expect_matches(test::to_vector(model.parameters().gradients()),
                 file.read_doubles(group + "/gradient"), group + "/gradient");
}

TEST_F(PytorchCrosscheck, FlowKernelExactDivergence) {
  check_flow(file_, flow::DivergenceEstimator::Exact, "/flow/exact");
}

TEST_F(PytorchCrosscheck, FlowKernelHutchinsonGivenProbes) {
  check_flow(file_, flow::DivergenceEstimator::Hutchinson, "/flow/hutchinson");
}

TEST_F(PytorchCrosscheck, ScoreMlpDenoising) {
  const auto d = static_cast<std::size_t>(file_.attribute_int("/score", "dim"));
  const auto hidden = static_cast<std::size_t>(file_.attribute_int("/score", "hidden"));
  nn::Model<double> model(nn::make_score_mlp<double>(d, hidden), 1);
  ASSERT_EQ(layout_of(model.parameters()), file_.attribute_string("/score", "layout"));
  const auto params = file_.read_doubles("/score/parameters");
  ASSERT_EQ(params.size(), model.parameters().num_parameters());
  test::from_vector(model.parameters().values(), params);

  const auto x0 = device_matrix(file_, "/score/x0");
  const auto eps = device_matrix(file_, "/score/eps");
  const auto times = file_.read_doubles("/score/t");
  View1<double> t("t", times.size());
  test::from_vector(t, times);
  diffusion::DenoisingLoss<double> loss(diffusion::NoiseSchedule::cosine());
  model.zero_gradients();
  const double value = loss.evaluate_with_noise(model, x0, t, eps, true);

  expect_matches({value}, {file_.read_double("/score/loss")}, "/score/loss");
  expect_matches(test::to_vector(model.parameters().gradients()),
                 file_.read_doubles("/score/gradient"), "/score/gradient");
}

}  // namespace
}  // namespace eqflow
