// Fixed-partition parallel loop: work items are claimed dynamically, but every item is a
// self-contained unit (a tile, a row band), so results never depend on the thread count.
#pragma once
#include <functional>

namespace rr {

// Runs fn(i) for i in [0, count) on up to `threads` threads (the caller's thread included).
// The first exception thrown by fn is rethrown on the caller's thread after all workers stop.
void ParallelFor(int threads, int count, const std::function<void(int)>& fn);

// Threads to use when the caller asks for 0 (= automatic).
int DefaultThreads();

}  // namespace rr
