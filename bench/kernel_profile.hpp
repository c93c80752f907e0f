// The kernel profile of the benchmarks: exclusive time per (innermost enclosing region, kernel
// or gemm or region), from a stack of open frames fed by Kokkos' tool callbacks (kernels and
// regions, KokkosBlas' gemm regions). Shared by bench_unet and bench_field_flow.
#pragma once

#include <Kokkos_Core.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace eqflow::bench {

struct Profile {
  struct Frame {
    std::string name;
    bool region;
    double start, children;
  };
  static inline std::vector<Frame> stack;
  static inline std::map<std::pair<std::string, std::string>, double> seconds;

  static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static void open(const char* name, bool region) {
    stack.push_back(Frame{name, region, now(), 0.0});
  }
  static void close() {
    if (stack.empty()) return;
    const Frame f = stack.back();
    stack.pop_back();
    const double elapsed = now() - f.start;
    const bool gemm = f.name.rfind("KokkosBlas::gemm", 0) == 0;
    std::string group = "(top)", leaf = gemm ? "gemm" : f.name;
    if (f.region && !gemm) {
      group = f.name;
      leaf = "(between kernels)";
    } else {
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        if (it->region) {
          group = it->name;
          break;
        }
      }
    }
    seconds[{group, leaf}] += elapsed - f.children;
    if (!stack.empty()) stack.back().children += elapsed;
  }
  static void begin_kernel(const char* name, const std::uint32_t, std::uint64_t*) {
    open(name, false);
  }
  static void end_kernel(std::uint64_t) { close(); }
  static void push(const char* name) { open(name, true); }
  static void pop() { close(); }

  static void set(bool on) {
    namespace tools = Kokkos::Tools::Experimental;
    tools::set_begin_parallel_for_callback(on ? begin_kernel : nullptr);
    tools::set_end_parallel_for_callback(on ? end_kernel : nullptr);
    tools::set_begin_parallel_reduce_callback(on ? begin_kernel : nullptr);
    tools::set_end_parallel_reduce_callback(on ? end_kernel : nullptr);
    tools::set_begin_parallel_scan_callback(on ? begin_kernel : nullptr);
    tools::set_end_parallel_scan_callback(on ? end_kernel : nullptr);
    tools::set_push_region_callback(on ? push : nullptr);
    tools::set_pop_region_callback(on ? pop : nullptr);
  }
};

}  // namespace eqflow::bench
