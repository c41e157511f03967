// sealhost plugin SDK: components and the export macro.
//
// A component class `Impl` provides:
//   static constexpr const char* kId;                 // "<vendor>.<kind>.<name>"
//   explicit Impl(const sdk::Context& ctx);           // may throw sdk::Error
// plus the methods its kind's adapter calls (see storage.hpp, stage.hpp). sdk::component<Impl>()
// fills the C descriptor with create/destroy thunks behind the exception barrier.
//
// Each plugin has one plugin.cpp that defines its descriptor and exports it:
//   SEALHOST_PLUGIN(kDescriptor)
// which defines `sealhost_plugin_entry_v1`. When CMake links first-party plugins statically it
// defines SEALHOST_STATIC_ENTRY_NAME so each plugin gets a unique entry name instead.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/options.hpp>

#include <string>

namespace sealhost::sdk {

// What create() hands a component: the host services, a logger named after the component, and
// its validated options (valid during construction only).
struct Context {
  const sealhost_host_services* host;
  Logger log;
  Options options;
};

template <class Impl>
sealhost_status create_thunk(const sealhost_host_services* host, const sealhost_options* options,
                             void** instance_out, sealhost_error_sink* err) noexcept {
  return barrier(err, [&] {
    if (!instance_out) throw invalid_argument(std::string(Impl::kId) + ": null instance_out");
    Context ctx{host, Logger(host, Impl::kId), Options(options)};
    *instance_out = new Impl(ctx);
  });
}

template <class Impl>
void destroy_thunk(void* instance) noexcept {
  delete static_cast<Impl*>(instance);
}

template <class Impl>
inline Impl& self(void* instance) {
  return *static_cast<Impl*>(instance);
}

// Builds a component descriptor for Impl. `options` must be a static table.
template <class Impl, size_t N>
constexpr sealhost_component_desc component(int32_t kind, const char* description,
                                            const sealhost_option_desc (&options)[N],
                                            const void* vtable, uint32_t flags = 0) {
  return {sizeof(sealhost_component_desc),
          kind,
          flags,
          0,
          Impl::kId,
          description,
          options,
          N,
          &create_thunk<Impl>,
          &destroy_thunk<Impl>,
          vtable};
}
template <class Impl>
constexpr sealhost_component_desc component(int32_t kind, const char* description,
                                            const void* vtable, uint32_t flags = 0) {
  return {sizeof(sealhost_component_desc),
          kind,
          flags,
          0,
          Impl::kId,
          description,
          nullptr,
          0,
          &create_thunk<Impl>,
          &destroy_thunk<Impl>,
          vtable};
}

template <size_t N>
constexpr sealhost_plugin_descriptor plugin(
    const char* id, const char* version, const char* license, int32_t maturity,
    const char* description, const sealhost_component_desc (&components)[N],
    decltype(sealhost_plugin_descriptor::init) init = nullptr) {
  return {sizeof(sealhost_plugin_descriptor),
          SEALHOST_ABI_MAJOR,
          SEALHOST_ABI_MINOR,
          maturity,
          id,
          version,
          license,
          description,
          components,
          N,
          init};
}

}  // namespace sealhost::sdk

#ifdef SEALHOST_STATIC_ENTRY_NAME
#define SEALHOST_PLUGIN(descriptor)                                               \
  extern "C" const sealhost_plugin_descriptor* SEALHOST_STATIC_ENTRY_NAME(void) { \
    return &(descriptor);                                                         \
  }
#else
#define SEALHOST_PLUGIN(descriptor)                                                             \
  extern "C" SEALHOST_EXPORT const sealhost_plugin_descriptor* sealhost_plugin_entry_v1(void) { \
    return &(descriptor);                                                                       \
  }
#endif
