# Finds eqflow's dependencies and exposes them as targets:
#   eqflow::kokkos  Kokkos + KokkosKernels (Debian's Trilinos 3.4 build or a standalone install)
#   MPI::MPI_CXX, eqflow::hdf5 (parallel HDF5), PNG::PNG (libpng, icons), yaml-cpp, fmt::fmt,
#   GTest::gtest
#
# Debian's Trilinos packages export a `Kokkos::kokkos` target whose include path points at a
# directory that does not exist, so for that install we build an INTERFACE target from the
# Kokkos_INCLUDE_DIRS / Kokkos_LIBRARIES variables instead (see STYLE.md). A standalone Kokkos
# install (any version, e.g. scripts/kokkos_openmp.sh's 3.4.1 with OpenMP, or a 4.x) exports
# Kokkos::kokkoscore and Kokkos::kokkoskernels with real include paths; we use its targets.

find_package(Kokkos REQUIRED)
find_package(KokkosKernels REQUIRED)

add_library(eqflow_kokkos INTERFACE)
add_library(eqflow::kokkos ALIAS eqflow_kokkos)
set(_eqflow_kokkos_targets_valid OFF)
if(TARGET Kokkos::kokkoscore AND TARGET Kokkos::kokkoskernels)
  set(_eqflow_kokkos_targets_valid ON)
  foreach(_target Kokkos::kokkos Kokkos::kokkoscore)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    foreach(_dir IN LISTS _dirs)
      if(_dir AND NOT _dir MATCHES "\\$<" AND NOT IS_DIRECTORY "${_dir}")
        set(_eqflow_kokkos_targets_valid OFF)
      endif()
    endforeach()
  endforeach()
endif()
if(NOT _eqflow_kokkos_targets_valid AND Kokkos_VERSION VERSION_GREATER_EQUAL 4)
  # The fallback below is for Debian's Trilinos 3.4; with a 4.x it would mix 4.x headers with
  # 3.4 libraries.
  message(FATAL_ERROR
          "eqflow: Kokkos ${Kokkos_VERSION} (${Kokkos_DIR}) needs a KokkosKernels 4.x built "
          "against it, found '${KokkosKernels_DIR}'; pass -DKokkosKernels_ROOT=<its prefix>")
endif()
if(NOT _eqflow_kokkos_targets_valid)
  find_path(EQFLOW_KOKKOS_INCLUDE Kokkos_Core.hpp
            HINTS ${Kokkos_INCLUDE_DIRS} /usr/include/trilinos REQUIRED)
  set(_eqflow_kokkos_libs)
  foreach(_lib IN LISTS KokkosKernels_LIBRARIES Kokkos_LIBRARIES)
    find_library(_eqflow_lib_${_lib} ${_lib} HINTS ${Kokkos_LIBRARY_DIRS} ${KokkosKernels_LIBRARY_DIRS}
                 REQUIRED)
    list(APPEND _eqflow_kokkos_libs ${_eqflow_lib_${_lib}})
  endforeach()
  list(REMOVE_DUPLICATES _eqflow_kokkos_libs)
  target_include_directories(eqflow_kokkos SYSTEM INTERFACE ${EQFLOW_KOKKOS_INCLUDE})
  target_link_libraries(eqflow_kokkos INTERFACE ${_eqflow_kokkos_libs} ${CMAKE_DL_LIBS})
else()
  target_link_libraries(eqflow_kokkos INTERFACE Kokkos::kokkos Kokkos::kokkoskernels)
endif()
message(STATUS "eqflow: Kokkos ${Kokkos_VERSION} (${Kokkos_DEVICES}), KokkosKernels "
               "${KokkosKernels_VERSION}, installed targets: ${_eqflow_kokkos_targets_valid}")

find_package(MPI REQUIRED COMPONENTS C CXX)

set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(WARNING "eqflow: the HDF5 found is not parallel; install libhdf5-openmpi-dev")
endif()
add_library(eqflow_hdf5 INTERFACE)
add_library(eqflow::hdf5 ALIAS eqflow_hdf5)
target_include_directories(eqflow_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
# Parallel HDF5 includes mpi.h: whoever uses HDF5 (io/) sees MPI too.
target_link_libraries(eqflow_hdf5 INTERFACE ${HDF5_LIBRARIES} MPI::MPI_C)
target_compile_definitions(eqflow_hdf5 INTERFACE ${HDF5_DEFINITIONS})

find_package(PNG REQUIRED)  # icon images of the artificial-life data (io/png, libpng-dev)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)  # header-only command-line parser of eqflow_cli (libcli11-dev)
if(EQFLOW_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
