// Two Sessions over one shared graph, run from two threads at once: the check that a Session
// keeps no state in the graph or the registry that another Session could see.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/session.h"

namespace qrt::testing {

struct ThreadRuns {
  std::vector<std::vector<float>> outputs;  // f32 output 0 of each run, in run order
  std::string error;                        // the first failure, empty when every run succeeded
};

// Each thread creates its own Session and runs inputs_of(0) .. inputs_of(runs - 1); the views the
// callback returns must stay valid for the whole call. REQUIREs that every run succeeded, CHECKs
// that both threads got bit-identical outputs, and returns the outputs of the first thread.
inline std::vector<std::vector<float>> run_on_two_threads(
    const std::shared_ptr<const ir::Graph>& graph, const runtime::KernelRegistry& registry,
    int runs, const std::function<std::vector<runtime::NamedTensor>(int)>& inputs_of) {
  auto worker = [&](ThreadRuns& result) {
    auto session = runtime::Session::create(graph, registry);
    if (!session.is_ok()) {
      result.error = session.status().to_string();
      return;
    }
    for (int i = 0; i < runs; ++i) {
      auto out = (*session)->run(inputs_of(i));
      if (!out.is_ok()) {
        result.error = out.status().to_string();
        return;
      }
      auto s = (*out)[0].span<float>();
      result.outputs.emplace_back(s.begin(), s.end());
    }
  };
  std::pair<ThreadRuns, ThreadRuns> results;
  std::thread ta(worker, std::ref(results.first));
  std::thread tb(worker, std::ref(results.second));
  ta.join();
  tb.join();
  const ThreadRuns& a = results.first;
  const ThreadRuns& b = results.second;
  REQUIRE_MESSAGE(a.error.empty(), a.error);
  REQUIRE_MESSAGE(b.error.empty(), b.error);
  REQUIRE(a.outputs.size() == static_cast<std::size_t>(runs));
  CHECK(a.outputs == b.outputs);  // same kernels, same inputs: bit-identical
  return std::move(results.first.outputs);
}

}  // namespace qrt::testing
