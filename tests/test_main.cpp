// GoogleTest main: Kokkos is initialised once for the whole suite and finalised after every
// test's Views are gone (each test body is its own scope).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>

#include "eqflow/core/openmp_env.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  eqflow::set_openmp_defaults();
  Kokkos::initialize(argc, argv);
  int result = 0;
  { result = RUN_ALL_TESTS(); }
  Kokkos::finalize();
  return result;
}
