// The one place that names Kokkos spaces and View types. Everything else in eqflow speaks
// in these aliases, so a build against Serial, OpenMP, CUDA or HIP Kokkos needs no change.
#pragma once

#include <Kokkos_Core.hpp>

namespace eqflow {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using HostSpace = Kokkos::HostSpace;
using Layout = Kokkos::LayoutRight;

//! A flat array (parameters, per-sample scalars).
template <class T>
using View1 = Kokkos::View<T*, Layout, MemSpace>;
//! A batch of vectors, (batch, features).
template <class T>
using View2 = Kokkos::View<T**, Layout, MemSpace>;
//! A batch of tangent batches, (probes, batch, features).
template <class T>
using View3 = Kokkos::View<T***, Layout, MemSpace>;
//! A batch of images, (batch, channels, height, width).
template <class T>
using View4 = Kokkos::View<T****, Layout, MemSpace>;

//! Views that wrap memory owned elsewhere (named slices of a flat parameter buffer).
template <class T>
using Unmanaged1 = Kokkos::View<T*, Layout, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
template <class T>
using Unmanaged2 = Kokkos::View<T**, Layout, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

template <class View>
using HostMirror = typename View::HostMirror;

using RangePolicy = Kokkos::RangePolicy<ExecSpace>;
using Policy2D = Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>>;

}  // namespace eqflow
