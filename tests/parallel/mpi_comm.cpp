// parallel::Comm on however many ranks mpiexec starts (ctest runs 1, 2 and 4): every
// collective the stage drivers use, the seed schedule, and the ordered all-reduce, whose sums
// must be bit-identical to a serial sum in global row order for any rank count and split.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/parallel/comm.hpp"

namespace eqflow::parallel {
namespace {

namespace fs = std::filesystem;

TEST(MpiSession, IsANoOpWhenMpiIsAlreadyInitialised) {
  { MpiSession inner(nullptr, nullptr); }
  int finalised = 1;
  MPI_Finalized(&finalised);
  EXPECT_EQ(finalised, 0);
  Comm::world().barrier();
}

TEST(Comm, WorldMatchesTheWorldCommunicator) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const Comm comm = Comm::world();
  EXPECT_EQ(comm.rank(), rank);
  EXPECT_EQ(comm.size(), size);
  EXPECT_EQ(comm.is_root(), rank == 0);
}

TEST(Comm, CopiesShareTheCommunicatorUntilTheLastGoes) {
  Comm kept = Comm::world();
  {
    Comm first = Comm::world();
    kept = first;
  }
  kept.barrier();
  for (int i = 0; i < 50; ++i) Comm::world().barrier();
  EXPECT_EQ(kept.max(1.0), 1.0);
}

TEST(Comm, BarrierOrdersAFileWrittenByRoot) {
  const Comm comm = Comm::world();
  std::string dir;
  if (comm.is_root()) {
    dir =
        (fs::temp_directory_path() / ("eqflow_mpi_barrier_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  comm.broadcast(dir);
  const fs::path marker = fs::path(dir) / "written_before_barrier";
  comm.barrier();  // no rank reads before root has created the directory
  if (comm.is_root()) std::ofstream(marker) << "ok";
  comm.barrier();
  EXPECT_TRUE(fs::exists(marker)) << "rank " << comm.rank();
  comm.barrier();  // nobody checks after root removes it
  if (comm.is_root()) fs::remove_all(dir);
}

TEST(Comm, BroadcastStringFromAnyRoot) {
  const Comm comm = Comm::world();
  for (int root = 0; root < comm.size(); ++root) {
    std::string text = "rank " + std::to_string(comm.rank()) + std::string(comm.rank() * 3, 'x');
    if (comm.rank() == root) text += std::string("\0 \xc3\xa9", 4);
    comm.broadcast(text, root);
    EXPECT_EQ(text, "rank " + std::to_string(root) + std::string(root * 3, 'x') +
                        std::string("\0 \xc3\xa9", 4));
  }
  std::string empty = comm.is_root() ? "" : "not empty";
  comm.broadcast(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(Comm, BroadcastVectorsResizeTheReceivers) {
  const Comm comm = Comm::world();
  const int root = comm.size() - 1;
  std::vector<double> d(static_cast<std::size_t>(comm.rank() + 1), -1.0);
  if (comm.rank() == root) {
    d.resize(1000);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = std::sqrt(static_cast<double>(i)) / 3.0;
  }
  comm.broadcast(d, root);
  ASSERT_EQ(d.size(), 1000u);
  for (std::size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d[i], std::sqrt(static_cast<double>(i)) / 3.0);
  }
  std::vector<float> f = comm.is_root() ? std::vector<float>{} : std::vector<float>(7, 2.0f);
  comm.broadcast(f);
  EXPECT_TRUE(f.empty());
  std::vector<float> g =
      comm.is_root() ? std::vector<float>{1.5f, -0.0f, 3e-38f} : std::vector<float>{};
  comm.broadcast(g);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0], 1.5f);
  EXPECT_TRUE(std::signbit(g[1]));
  EXPECT_EQ(g[2], 3e-38f);
}

TEST(Comm, AllAndMax) {
  const Comm comm = Comm::world();
  const int last = comm.size() - 1;
  EXPECT_TRUE(comm.all(true));
  EXPECT_FALSE(comm.all(false));
  EXPECT_FALSE(comm.all(comm.rank() != last));
  EXPECT_EQ(comm.max(static_cast<double>(comm.rank())), static_cast<double>(last));
  EXPECT_EQ(comm.max(-1.0 - comm.rank()), -1.0);
  EXPECT_EQ(comm.max(comm.rank() == last ? 0.25 : -1e300), 0.25);
}

TEST(Comm, AllreduceSum) {
  const Comm comm = Comm::world();
  const double p = comm.size(), r = comm.rank();
  std::vector<double> v = {r + 1.0, 0.5, -r};
  comm.allreduce_sum(v);
  EXPECT_EQ(v, (std::vector<double>{p * (p + 1) / 2, 0.5 * p, -p * (p - 1) / 2}));

  const std::size_t n = 1000;
  std::vector<float> f(n);
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) {
    f[i] = static_cast<float>(i) + static_cast<float>(r);
    d[i] = static_cast<double>(i) * 0.25 - r;
  }
  comm.allreduce_sum(f.data(), n);
  comm.allreduce_sum(d.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(f[i], static_cast<float>(static_cast<double>(i) * p + p * (p - 1) / 2)) << i;
    EXPECT_EQ(d[i], static_cast<double>(i) * 0.25 * p - p * (p - 1) / 2) << i;
  }
  std::vector<double> none;
  comm.allreduce_sum(none);
  comm.allreduce_sum(static_cast<float*>(nullptr), 0);
  EXPECT_TRUE(none.empty());
}

TEST(SeedsForRank, RoundRobin) {
  EXPECT_EQ(seeds_for_rank(10, 20, 1, 4), (std::vector<std::int64_t>{11, 15, 19}));
  EXPECT_EQ(seeds_for_rank(0, 3, 0, 1), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_TRUE(seeds_for_rank(5, 7, 3, 4).empty());
  EXPECT_TRUE(seeds_for_rank(5, 5, 0, 2).empty());
}

TEST(SeedsForRank, EverySeedOnExactlyOneRank) {
  const Comm comm = Comm::world();
  for (const std::int64_t count : {0, 1, 3, 4, 5, 17}) {
    const std::int64_t first = 7;
    std::vector<double> held(static_cast<std::size_t>(count), 0.0);
    for (const auto s : seeds_for_rank(first, first + count, comm.rank(), comm.size())) {
      ASSERT_GE(s, first);
      ASSERT_LT(s, first + count);
      EXPECT_EQ((s - first) % comm.size(), comm.rank());
      held[static_cast<std::size_t>(s - first)] += 1.0;
    }
    comm.allreduce_sum(held);
    for (std::size_t i = 0; i < held.size(); ++i) EXPECT_EQ(held[i], 1.0) << "seed " << first + i;
  }
}

// Row g, column k of the (61, 37) test array: signs and exponents spread over 2^-20 .. 2^20,
// so a float sum depends on the order of its terms.
template <class T>
T term(std::int64_t g, std::size_t k) {
  const auto m = static_cast<double>((g * 31 + static_cast<std::int64_t>(k) * 17) % 97);
  const int e = static_cast<int>((g * 13 + static_cast<std::int64_t>(k)) % 41) - 20;
  const double sign = (g + static_cast<std::int64_t>(k)) % 3 == 0 ? -1.0 : 1.0;
  return static_cast<T>(sign * std::ldexp(1.0 + m / 97.0, e));
}

constexpr std::int64_t kRows = 61;
constexpr std::size_t kWidth = 37;

template <class T>
std::vector<T> serial_sum(bool reversed) {
  std::vector<T> sums(kWidth, T(0));
  for (std::int64_t i = 0; i < kRows; ++i) {
    const std::int64_t g = reversed ? kRows - 1 - i : i;
    for (std::size_t k = 0; k < kWidth; ++k) sums[k] += term<T>(g, k);
  }
  return sums;
}

template <class T>
std::vector<T> values_of(const std::vector<std::int64_t>& rows) {
  std::vector<T> values;
  for (const auto g : rows) {
    for (std::size_t k = 0; k < kWidth; ++k) values.push_back(term<T>(g, k));
  }
  return values;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The splits of the rows over the ranks: round robin (the seed schedule), contiguous uneven
// blocks held in descending order, and everything on the last rank.
std::vector<std::vector<std::int64_t>> splits(const Comm& comm) {
  const std::int64_t r = comm.rank(), p = comm.size();
  std::vector<std::int64_t> blocks;
  for (std::int64_t g = kRows * (r + 1) * (r + 1) / (p * p) - 1; g >= kRows * r * r / (p * p);
       --g) {
    blocks.push_back(g);
  }
  std::vector<std::int64_t> last;
  if (r == p - 1) {
    for (std::int64_t g = 0; g < kRows; ++g) last.push_back(g);
  }
  return {seeds_for_rank(0, kRows, comm.rank(), comm.size()), blocks, last};
}

template <class T>
void check_ordered_sum(const char* type) {
  const Comm comm = Comm::world();
  const auto reference = serial_sum<T>(false);
  ASSERT_FALSE(same_bits(reference, serial_sum<T>(true)))
      << "the test terms must be order-sensitive";
  for (const auto& rows : splits(comm)) {
    const auto sums = comm.allreduce_sum_ordered(rows, values_of<T>(rows), kWidth);
    EXPECT_TRUE(same_bits(sums, reference)) << "rank " << comm.rank();
  }
  // One line per rank count, for comparing runs by eye: the same hash on 1, 2 and 4 ranks.
  const auto sums =
      comm.allreduce_sum_ordered(splits(comm)[0], values_of<T>(splits(comm)[0]), kWidth);
  std::uint64_t hash = 0xCBF29CE484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(sums.data());
  for (std::size_t i = 0; i < sums.size() * sizeof(T); ++i) {
    hash = (hash ^ bytes[i]) * 0x100000001B3ull;
  }
  if (comm.is_root()) {
    std::printf("ordered %s sums on %d rank(s): fnv1a %016llx, sum[0] %.9g\n", type, comm.size(),
                static_cast<unsigned long long>(hash), static_cast<double>(sums[0]));
  }
}

TEST(AllreduceSumOrdered, FloatBitIdenticalToTheSerialSumForAnySplit) {
  check_ordered_sum<float>("float");
}

TEST(AllreduceSumOrdered, DoubleBitIdenticalToTheSerialSumForAnySplit) {
  check_ordered_sum<double>("double");
}

TEST(AllreduceSumOrdered, EmptyWidthAndNoRows) {
  const Comm comm = Comm::world();
  EXPECT_TRUE(comm.allreduce_sum_ordered({comm.rank()}, std::vector<float>{}, 0).empty());
  EXPECT_EQ(comm.allreduce_sum_ordered({}, std::vector<double>{}, 3),
            (std::vector<double>{0.0, 0.0, 0.0}));
}

TEST(AllreduceSumOrdered, EveryRankThrowsOnARowHeldTwice) {
  const Comm comm = Comm::world();
  const std::vector<std::int64_t> rows =
      comm.size() == 1 ? std::vector<std::int64_t>{4, 4} : std::vector<std::int64_t>{4};
  EXPECT_THROW(comm.allreduce_sum_ordered(rows, std::vector<float>(rows.size() * 2, 1.0f), 2),
               Error);
  comm.barrier();
}

TEST(AllreduceSumOrdered, EveryRankThrowsOnAShapeMismatch) {
  const Comm comm = Comm::world();
  const bool last = comm.rank() == comm.size() - 1;
  std::vector<double> values(last ? 3 : 2, 1.0);
  EXPECT_THROW(comm.allreduce_sum_ordered({comm.rank()}, values, 2), Error);
  comm.barrier();
}

}  // namespace
}  // namespace eqflow::parallel
