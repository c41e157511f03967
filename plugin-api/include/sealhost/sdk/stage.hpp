// sealhost plugin SDK: the stage component kind.
//
// Impl provides:
//   static constexpr const char* kStage;   // "addpiece", "pc1", ...
//   std::string run(std::string_view input_json, const sdk::Job& job);  // returns output JSON
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <string>

namespace sealhost::sdk {

template <class Impl>
struct StageThunks {
  static sealhost_status run(void* self_, sealhost_str input, sealhost_job* job,
                             sealhost_json_cb cb, void* ctx, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      std::string out = self<Impl>(self_).run(to_view(input), Job(job));
      if (cb) cb(ctx, to_str(out));
    });
  }
};

template <class Impl>
inline constexpr sealhost_stage_vtable stage_vtable = {sizeof(sealhost_stage_vtable), 0,
                                                       Impl::kStage, &StageThunks<Impl>::run};

}  // namespace sealhost::sdk
