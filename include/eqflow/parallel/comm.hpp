// The MPI communicator behind a small interface (ExaMiniMD / Cabana style): a duplicate of
// the world communicator owned by a shared_ptr whose deleter frees it, with the handful of
// collectives eqflow uses. MPI appears only here and in the stage drivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eqflow::parallel {

//! MPI_Init/Finalize for the lifetime of main (a no-op pair if MPI is already initialised).
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool owns_ = false;
};

class Comm {
 public:
  //! A duplicate of MPI_COMM_WORLD.
  static Comm world();
  //! A duplicate of MPI_COMM_SELF: this rank alone (serial work inside an MPI run, tests).
  static Comm self();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  //! The underlying communicator as an opaque handle: a `const MPI_Comm*`, for the libraries
  //! that take one (parallel HDF5 in io/). Valid while this Comm or a copy of it lives.
  const void* native_handle() const { return comm_.get(); }

  void barrier() const;
  //! In-place sum over ranks.
  void allreduce_sum(std::vector<double>& values) const;
  void allreduce_sum(float* values, std::size_t n) const;
  void allreduce_sum(double* values, std::size_t n) const;
  //! Logical AND / max over ranks.
  bool all(bool value) const;
  double max(double value) const;
  //! Root's buffer to every rank (resized on receivers).
  void broadcast(std::vector<float>& values, int root = 0) const;
  void broadcast(std::vector<double>& values, int root = 0) const;
  void broadcast(std::string& text, int root = 0) const;
  //! Column sums of a (rows, width) array whose rows are spread over the ranks, added in a
  //! fixed order: this rank holds the rows with global indices `rows` (each index held by
  //! exactly one rank) in `values` (rows.size(), width), row-major. Root gathers every row,
  //! adds them in increasing global index and broadcasts the (width) sums, so the result is
  //! bit-identical for any rank count and any split of the rows (MPI_Allreduce's order
  //! depends on both). Root holds all rows at once. Collective; throws on every rank if
  //! the shapes disagree or an index is held twice.
  std::vector<float> allreduce_sum_ordered(const std::vector<std::int64_t>& rows,
                                           const std::vector<float>& values,
                                           std::size_t width) const;
  std::vector<double> allreduce_sum_ordered(const std::vector<std::int64_t>& rows,
                                            const std::vector<double>& values,
                                            std::size_t width) const;

 private:
  //! A duplicate of the communicator *static_cast<const MPI_Comm*>(source).
  static Comm duplicate(const void* source);

  std::shared_ptr<void> comm_;  // holds an MPI_Comm*, freed by the deleter
  int rank_ = 0;
  int size_ = 1;
};

//! Seeds [first, last) handed out round-robin: rank r gets first + r, first + r + P, ...
std::vector<std::int64_t> seeds_for_rank(std::int64_t first, std::int64_t last, int rank, int size);

}  // namespace eqflow::parallel
