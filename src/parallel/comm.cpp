// MPI communicator wrapper and the seed schedule.
#include "eqflow/parallel/comm.hpp"

#include <mpi.h>

#include <cstdint>

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

Comm Comm::world() {
  Comm c;
  auto* comm = new MPI_Comm;
  check(MPI_Comm_dup(MPI_COMM_WORLD, comm), "MPI_Comm_dup");
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

std::vector<std::int64_t> seeds_for_rank(std::int64_t first, std::int64_t last, int rank,
                                         int size) {
  std::vector<std::int64_t> seeds;
  for (std::int64_t s = first + rank; s < last; s += size) seeds.push_back(s);
  return seeds;
}

}  // namespace eqflow::parallel
