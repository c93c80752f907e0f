// GoogleTest main of the MPI suites (eqflow_mpi_tests, run under mpiexec with 1, 2 and 4 ranks;
// eqflow_mpi_field_tests with 1 and 2): every rank runs every test; rank 0 prints the usual
// report, the others only their failed assertions, and the run fails if any rank failed. Kokkos
// is initialised for the suites whose tests run kernels (each test's Views die in its scope).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/parallel/comm.hpp"

namespace {

class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.summary());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  eqflow::parallel::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  Kokkos::ScopeGuard kokkos(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(rank));
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return failed;
}
