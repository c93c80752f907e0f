// MPI communicator wrapper and the seed schedule.
#include "eqflow/parallel/comm.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <numeric>

#include "eqflow/core/error.hpp"

namespace eqflow::parallel {
namespace {
MPI_Comm handle(const std::shared_ptr<void>& p) {
  return *static_cast<MPI_Comm*>(p.get());
}
void check(int code, const char* what) {
  if (code != MPI_SUCCESS) throw Error(std::string("MPI error in ") + what);
}
}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    check(MPI_Init(argc, argv), "MPI_Init");
    owns_ = true;
  }
}

MpiSession::~MpiSession() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (owns_ && !finalised) MPI_Finalize();
}

Comm Comm::duplicate(const void* source) {
  Comm c;
  auto* comm = new MPI_Comm;
  check(MPI_Comm_dup(*static_cast<const MPI_Comm*>(source), comm), "MPI_Comm_dup");
  c.comm_ = std::shared_ptr<void>(comm, [](void* p) {
    auto* mc = static_cast<MPI_Comm*>(p);
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(mc);
    delete mc;
  });
  MPI_Comm_rank(*comm, &c.rank_);
  MPI_Comm_size(*comm, &c.size_);
  return c;
}

Comm Comm::world() {
  const MPI_Comm world = MPI_COMM_WORLD;
  return duplicate(&world);
}

Comm Comm::self() {
  const MPI_Comm self = MPI_COMM_SELF;
  return duplicate(&self);
}

void Comm::barrier() const {
  check(MPI_Barrier(handle(comm_)), "MPI_Barrier");
}

void Comm::allreduce_sum(std::vector<double>& values) const {
  allreduce_sum(values.data(), values.size());
}

void Comm::allreduce_sum(float* values, std::size_t n) const {
  check(MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(n), MPI_FLOAT, MPI_SUM, handle(comm_)),
        "MPI_Allreduce");
}

void Comm::allreduce_sum(double* values, std::size_t n) const {
  check(
      MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, handle(comm_)),
      "MPI_Allreduce");
}

bool Comm::all(bool value) const {
  int v = value ? 1 : 0;
  check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, handle(comm_)), "MPI_Allreduce");
  return v != 0;
}

double Comm::max(double value) const {
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, handle(comm_)),
        "MPI_Allreduce");
  return value;
}

namespace {
template <class T>
void broadcast_vector(std::vector<T>& values, int root, MPI_Datatype type, MPI_Comm comm) {
  std::uint64_t n = values.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  values.resize(n);
  check(MPI_Bcast(values.data(), static_cast<int>(n), type, root, comm), "MPI_Bcast");
}
}  // namespace

void Comm::broadcast(std::vector<float>& values, int root) const {
  broadcast_vector(values, root, MPI_FLOAT, handle(comm_));
}
void Comm::broadcast(std::vector<double>& values, int root) const {
  broadcast_vector(values, root, MPI_DOUBLE, handle(comm_));
}
void Comm::broadcast(std::string& text, int root) const {
  std::vector<char> buffer(text.begin(), text.end());
  broadcast_vector(buffer, root, MPI_CHAR, handle(comm_));
  text.assign(buffer.begin(), buffer.end());
}

namespace {
// Root's verdict on a precondition, shared so that every rank throws (or none does).
void agree(bool ok, const std::string& message, MPI_Comm comm) {
  int v = ok ? 1 : 0;
  check(MPI_Bcast(&v, 1, MPI_INT, 0, comm), "MPI_Bcast");
  if (v == 0) throw Error("allreduce_sum_ordered: " + message);
}

template <class T>
std::vector<T> sum_rows_ordered(const std::vector<std::int64_t>& rows, const std::vector<T>& values,
                                std::size_t width, MPI_Datatype type, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int shape_ok = values.size() == rows.size() * width &&
                 rows.size() * width <= static_cast<std::size_t>(INT_MAX);
  check(MPI_Allreduce(MPI_IN_PLACE, &shape_ok, 1, MPI_INT, MPI_LAND, comm), "MPI_Allreduce");
  if (shape_ok == 0) {
    throw Error("allreduce_sum_ordered: some rank's values are not (rows, width = " +
                std::to_string(width) + ") or exceed INT_MAX elements");
  }
  const int mine = static_cast<int>(rows.size());
  std::vector<int> counts(rank == 0 ? size : 0), offsets(counts.size());
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm), "MPI_Gather");
  const std::size_t total = std::accumulate(counts.begin(), counts.end(), std::size_t{0});
  agree(total * width <= static_cast<std::size_t>(INT_MAX), "more than INT_MAX elements in all",
        comm);
  std::vector<int> value_counts(counts.size()), value_offsets(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = r == 0 ? 0 : offsets[r - 1] + counts[r - 1];
    value_counts[r] = counts[r] * static_cast<int>(width);
    value_offsets[r] = offsets[r] * static_cast<int>(width);
  }
  std::vector<std::int64_t> all_rows(total);
  std::vector<T> all_values(total * width);
  check(MPI_Gatherv(rows.data(), mine, MPI_INT64_T, all_rows.data(), counts.data(), offsets.data(),
                    MPI_INT64_T, 0, comm),
        "MPI_Gatherv");
  check(MPI_Gatherv(values.data(), mine * static_cast<int>(width), type, all_values.data(),
                    value_counts.data(), value_offsets.data(), type, 0, comm),
        "MPI_Gatherv");
  std::vector<T> sums(width, T(0));
  std::vector<std::size_t> order(total);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return all_rows[a] < all_rows[b]; });
  std::int64_t repeated = -1;
  for (std::size_t i = 1; i < total && repeated < 0; ++i) {
    if (all_rows[order[i]] == all_rows[order[i - 1]]) repeated = all_rows[order[i]];
  }
  check(MPI_Bcast(&repeated, 1, MPI_INT64_T, 0, comm), "MPI_Bcast");
  if (repeated >= 0) {
    throw Error("allreduce_sum_ordered: row " + std::to_string(repeated) + " is held twice");
  }
  for (const std::size_t i : order) {
    for (std::size_t k = 0; k < width; ++k) sums[k] += all_values[i * width + k];
  }
  check(MPI_Bcast(sums.data(), static_cast<int>(width), type, 0, comm), "MPI_Bcast");
  return sums;
}
}  // namespace

std::vector<float> Comm::allreduce_sum_ordered(const std::vector<std::int64_t>& rows,
                                               const std::vector<float>& values,
                                               std::size_t width) const {
  return sum_rows_ordered(rows, values, width, MPI_FLOAT, handle(comm_));
}
std::vector<double> Comm::allreduce_sum_ordered(const std::vector<std::int64_t>& rows,
                                                const std::vector<double>& values,
                                                std::size_t width) const {
  return sum_rows_ordered(rows, values, width, MPI_DOUBLE, handle(comm_));
}

std::vector<std::int64_t> seeds_for_rank(std::int64_t first, std::int64_t last, int rank,
                                         int size) {
  std::vector<std::int64_t> seeds;
  for (std::int64_t s = first + rank; s < last; s += size) seeds.push_back(s);
  return seeds;
}

}  // namespace eqflow::parallel
